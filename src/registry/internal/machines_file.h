// The machines file's parser and validator (TOML through toml++; the layout
// is documented in docs/machines.md). Private to registry/.
//
// Thread safety: pure function, safe from any thread.
#ifndef MH_REGISTRY_INTERNAL_MACHINES_FILE_H_
#define MH_REGISTRY_INTERNAL_MACHINES_FILE_H_

#include <string_view>
#include <vector>

#include "core/result.h"
#include "registry/machine_config.h"

namespace mh::registry::internal {

struct MachinesFile {
  MachineConfig defaults;               // [defaults] over the built-in ones; id ""
  std::vector<MachineConfig> machines;  // in file order, from_file = true
};

struct ParseOptions {
  // Whether a `model` path must name an existing regular file.
  bool check_model_files = false;
  // What [defaults] applies over (Registry::Load's `base`).
  MachineConfig base;
};

// Most problems reported in one status; the rest are counted.
inline constexpr std::size_t kMaxReportedProblems = 20;

// Parses and validates `text`; `file_name` prefixes every message and its
// folder resolves relative model paths. InvalidArgument with one line per
// problem (Registry::Load documents the form). Never throws.
Result<MachinesFile> ParseMachinesFile(std::string_view text, std::string_view file_name,
                                       const ParseOptions& options);

}  // namespace mh::registry::internal

#endif  // MH_REGISTRY_INTERNAL_MACHINES_FILE_H_
