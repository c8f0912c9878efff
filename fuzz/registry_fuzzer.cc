// Fuzz target for the machines file (registry/registry.h Registry::Parse):
// any bytes must give either a registry or an InvalidArgument whose every
// line names the file, never a crash, a hang or an exception; a registry
// must keep the promises of MachineConfig (ranges checked at load).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "registry/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto loaded = mh::registry::Registry::Parse(text, "fuzz.toml");
  if (!loaded.ok()) {
    const mh::Status& s = loaded.status();
    if (!s.IsInvalidArgument() || s.message().empty()) std::abort();
    std::istringstream lines{std::string(s.message())};
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("fuzz.toml", 0) != 0 && line.rfind("... and ", 0) != 0) std::abort();
    }
    return 0;
  }
  mh::registry::Registry& r = **loaded;
  for (const mh::registry::MachinePtr& m : r.List()) {
    if (m == nullptr || m->id.empty() || !m->from_file) std::abort();
    if (!(m->fs_hz >= 0) || m->alarm.k < 1 || m->alarm.k > m->alarm.n || m->alarm.m < 1) {
      std::abort();
    }
    if (m->bearing.geometry.has_value() == m->bearing.name.empty()) std::abort();
    if (m->learning.in_windows ? m->learning.windows == 0 : m->learning.duration.count() <= 0) {
      std::abort();
    }
    if (mh::registry::MachineJson(*m).empty()) std::abort();
  }
  mh::registry::MachinePtr seen = r.Lookup("fuzz-first-sight", 1);
  if (seen == nullptr || seen->from_file) std::abort();
  return 0;
}
