#include "log/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

#include "core/time_util.h"

namespace mh::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};
std::mutex g_mu;
const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "?";
}
}  // namespace

void SetLevel(Level level) { g_level.store(level); }
Level GetLevel() { return g_level.load(); }

void Write(Level level, std::string_view component, std::string_view message) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  std::string line = FormatRfc3339(WallNowNs(), 3);
  line += ' ';
  line += LevelName(level);
  line += ' ';
  line += component;
  line += ": ";
  line += message;
  line += '\n';
  std::lock_guard<std::mutex> lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace mh::log
