// Logging: one line per event to stderr, "2026-11-27T20:10:51.123Z info run: message".
// Log once, where a decision is made. Secrets never go into log messages.
//
// Thread safety: all functions may be called from any thread.
#ifndef MH_LOG_LOG_H_
#define MH_LOG_LOG_H_

#include <cstdint>
#include <string_view>

namespace mh::log {

enum class Level : std::uint8_t { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

// Messages below `level` are dropped. Default kInfo.
void SetLevel(Level level);
Level GetLevel();

void Write(Level level, std::string_view component, std::string_view message);
inline void Debug(std::string_view c, std::string_view m) { Write(Level::kDebug, c, m); }
inline void Info(std::string_view c, std::string_view m) { Write(Level::kInfo, c, m); }
inline void Warn(std::string_view c, std::string_view m) { Write(Level::kWarn, c, m); }
inline void Error(std::string_view c, std::string_view m) { Write(Level::kError, c, m); }

}  // namespace mh::log

#endif  // MH_LOG_LOG_H_
