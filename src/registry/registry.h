// Registry: every machine the pipeline watches, from a machines file
// (docs/machines.md: `[defaults]` and `[machines.<id>]` tables in TOML) and
// from the event stream: a sensor id that the file does not list is
// registered on first sight with the defaults (from_file = false).
//
// Precedence for each field: the machine's table, then [defaults], then the
// base values given to Load (by default the built-in defaults, the default
// member values of MachineConfig).
//
// Thread safety: all methods may be called from several threads at once
// (the pipeline's workers call Lookup). Configs are immutable once made; a
// returned pointer stays valid as long as the caller holds it.
#ifndef MH_REGISTRY_REGISTRY_H_
#define MH_REGISTRY_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "registry/machine_config.h"

namespace mh::registry {

namespace internal {
struct MachinesFile;
}

using MachinePtr = std::shared_ptr<const MachineConfig>;

// Most machines registered on first sight; past it Lookup still answers
// (with the defaults, from_file = false) but keeps nothing, so that a stream
// of ever-new ids cannot grow memory without bound.
inline constexpr std::size_t kMaxFirstSightMachines = 100000;

// Largest machines file read (a plant of 10,000 machines needs ~2 MiB).
inline constexpr std::size_t kMaxMachinesFileBytes = 16u << 20;

class Registry {
 public:
  // Reads and validates the machines file at `path`. Errors:
  //  - NotFound "<path>: no such file", IOError if it cannot be read,
  //    InvalidArgument for a folder or a file over kMaxMachinesFileBytes;
  //  - InvalidArgument for anything wrong in it, one line per problem (at
  //    most 20, then "... and N more"), each
  //    "<path>:<line>:<column>: <key path>: <problem> (<what to give>)",
  //    e.g. "machines.toml:12:9: machines.pump-7.fs_hz: expected a number >
  //    0, got -1 (the sampling rate in Hz, e.g. fs_hz = 25600)": syntax,
  //    unknown keys, wrong types, out-of-range values, unknown bearings,
  //    duplicate ids, rpm and rpm_field together, a model file that does
  //    not exist.
  //
  // `base` is what [defaults] applies over: the built-in defaults unless
  // the caller has others (e.g. the pipeline options given on the command
  // line), so that a machine's field comes from its table, then [defaults],
  // then `base`.
  static Result<std::unique_ptr<Registry>> Load(const std::string& path,
                                                const MachineConfig& base = MachineConfig{});

  // As Load, from text; `file_name` names it in messages and its folder
  // resolves relative model paths. Model files are not checked (no file
  // system access): for tests and the fuzzer.
  static Result<std::unique_ptr<Registry>> Parse(std::string_view text, std::string_view file_name,
                                                 const MachineConfig& base = MachineConfig{});

  // No file: every machine is registered on first sight with `base`.
  static std::unique_ptr<Registry> BuiltIn(const MachineConfig& base = MachineConfig{});

  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  // The config of `machine_id`; a machine not yet known is registered with
  // the defaults, first_seen_ns = `seen_ns` (the caller's choice: event time
  // of its first window, or wall time). Never null.
  MachinePtr Lookup(std::string_view machine_id, std::int64_t seen_ns);
  // The same with the wall clock as the time of first sight.
  MachinePtr Lookup(std::string_view machine_id);

  // What Lookup would return, without registering anything: for a machine
  // not known, a fresh defaults config (from_file = false, first_seen_ns 0).
  MachinePtr Peek(std::string_view machine_id) const;

  // Every registered machine: the file's in file order, then those
  // registered on first sight in order of appearance.
  std::vector<MachinePtr> List() const;

  // The defaults of machines not in the file (id "", from_file false):
  // [defaults] over the built-in defaults.
  const MachineConfig& defaults() const;
  // The machines file ("" for BuiltIn()).
  const std::string& path() const;

 private:
  struct Impl;
  explicit Registry(std::unique_ptr<Impl> impl);
  static std::unique_ptr<Registry> FromFile(std::string path, internal::MachinesFile file);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::registry

#endif  // MH_REGISTRY_REGISTRY_H_
