// Logging: one line per event to stderr, "2026-11-27T20:10:51.123Z info run: message"
// (Format::kText, the default), or with Format::kJson one JSON object per line:
// {"time":"2026-11-27T20:10:51.123Z","level":"info","component":"run","message":"..."}
// (strings escaped as JSON: control bytes as \u00XX, bytes that are not valid
// UTF-8 replaced by U+FFFD). Log once, where a decision is made. Secrets never go
// into log messages.
//
// Thread safety: all functions may be called from any thread.
#ifndef MH_LOG_LOG_H_
#define MH_LOG_LOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mh::log {

enum class Level : std::uint8_t { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };
enum class Format : std::uint8_t { kText = 0, kJson = 1 };

// Messages below `level` are dropped. Default kInfo.
void SetLevel(Level level);
Level GetLevel();
// How lines are written. Default kText.
void SetFormat(Format format);
Format GetFormat();

// "debug", "info", "warn", "error" (and "off" for GetLevel's kOff); nullopt
// for anything else. "text", "json".
std::optional<Level> ParseLevel(std::string_view name);
std::optional<Format> ParseFormat(std::string_view name);

// The line Write writes for these (ending in '\n'), stamped `time_ns`.
std::string FormatLine(Format format, std::int64_t time_ns, Level level, std::string_view component,
                       std::string_view message);

void Write(Level level, std::string_view component, std::string_view message);
inline void Debug(std::string_view c, std::string_view m) { Write(Level::kDebug, c, m); }
inline void Info(std::string_view c, std::string_view m) { Write(Level::kInfo, c, m); }
inline void Warn(std::string_view c, std::string_view m) { Write(Level::kWarn, c, m); }
inline void Error(std::string_view c, std::string_view m) { Write(Level::kError, c, m); }

}  // namespace mh::log

#endif  // MH_LOG_LOG_H_
