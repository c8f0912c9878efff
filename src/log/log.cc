#include "log/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

#include "core/strings.h"
#include "core/time_util.h"

namespace mh::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kText};
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
void SetFormat(Format format) { g_format.store(format); }
Format GetFormat() { return g_format.load(); }

std::optional<Level> ParseLevel(std::string_view name) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError, Level::kOff}) {
    if (name == LevelName(l)) return l;
  }
  return std::nullopt;
}

std::optional<Format> ParseFormat(std::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return std::nullopt;
}

std::string FormatLine(Format format, std::int64_t time_ns, Level level, std::string_view component,
                       std::string_view message) {
  std::string line;
  if (format == Format::kJson) {
    line = "{\"time\":\"" + FormatRfc3339(time_ns, 3) + "\",\"level\":\"" + LevelName(level) +
           "\",\"component\":";
    AppendJsonString(ReplaceInvalidUtf8(component), &line);
    line += ",\"message\":";
    AppendJsonString(ReplaceInvalidUtf8(message), &line);
    line += "}\n";
    return line;
  }
  line = FormatRfc3339(time_ns, 3);
  line += ' ';
  line += LevelName(level);
  line += ' ';
  line += component;
  line += ": ";
  line += message;
  line += '\n';
  return line;
}

void Write(Level level, std::string_view component, std::string_view message) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  const std::string line =
      FormatLine(g_format.load(std::memory_order_relaxed), WallNowNs(), level, component, message);
  std::lock_guard<std::mutex> lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace mh::log
