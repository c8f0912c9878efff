// Progress of long work over a known number of items (files, rows), for the
// commands that read many files (features, train, evaluate) and replay:
//
//   bar    one line redrawn in place with '\r' (a terminal), at most every
//          100 ms (~10 Hz), cleared and ended with '\n' by Finish:
//            features [#########...............]  42.8 %  1200/2803 files  310 files/s  4 s left
//   lines  one plain line every 5 s (a log, a pipe), and a last one at Finish:
//            features: 1200/2803 files (42.8 %), 310 files/s, 4 s left
//            features: 2803/2803 files (100.0 %), 311 files/s, done in 9.0 s
//   off    nothing.
//
// Rate = items done / seconds since the Progress was created; time left =
// items left / rate (shown once a rate is known). With an unknown total (0)
// only the count and the rate are shown. The clock is injected (tests pass a
// fake one); nothing here sleeps or starts a thread.
//
// Thread safety: one thread at a time. The stream is not owned and must
// outlive the object.
#ifndef MH_CORE_PROGRESS_H_
#define MH_CORE_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

#include "core/result.h"

namespace mh {

enum class ProgressMode : std::uint8_t { kAuto = 0, kBar = 1, kLines = 2, kOff = 3 };

// "auto", "bar", "lines" or "off"; InvalidArgument naming the value otherwise.
Result<ProgressMode> ParseProgressMode(std::string_view text);

// kAuto becomes kBar when `is_terminal` (the stream is a TTY), else kLines;
// other modes are returned unchanged.
ProgressMode ResolveProgressMode(ProgressMode mode, bool is_terminal);

// True when file descriptor 2 (stderr) is a terminal.
bool StderrIsTerminal();

struct ProgressOptions {
  std::string label;                         // leads every line: the command, e.g. "features"
  std::string unit = "files";                // what is counted, plural
  std::int64_t total = 0;                    // items to do; 0 = unknown
  ProgressMode mode = ProgressMode::kLines;  // kBar, kLines, kOff (kAuto: as kLines)
  int bar_width = 30;                        // characters between the brackets
  // Shortest time between two redraws of the bar / two lines.
  std::chrono::milliseconds bar_interval{100};
  std::chrono::milliseconds line_interval{5000};
  // Lines mode: Finish writes the last line even when no line was written
  // before (the work took less than line_interval). False keeps quick work
  // silent.
  bool last_line_if_quick = true;
};

class Progress {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // Starts counting at `now()`. `now` defaults to the steady clock.
  Progress(ProgressOptions options, std::ostream& out, Clock now = nullptr);
  // Ends a bar left unfinished with '\n' (an error message then starts on a
  // line of its own); prints nothing else.
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `n` more items done; redraws the bar or writes a line when one is due.
  void Advance(std::int64_t n = 1);
  // The final state: the bar at its last count, then '\n'; in lines mode
  // the last line ("done in ...", see last_line_if_quick). Once; later calls
  // do nothing.
  void Finish();

  std::int64_t done() const { return done_; }

 private:
  void Draw(bool final);

  ProgressOptions options_;
  std::ostream& out_;
  Clock now_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  std::int64_t done_ = 0;
  std::size_t drawn_width_ = 0;  // length of the bar line on screen (0: none)
  bool drew_ = false;            // something was written
  bool finished_ = false;
};

// The texts, public for tests. `elapsed` since the start.
std::string ProgressLine(const ProgressOptions& options, std::int64_t done,
                         std::chrono::duration<double> elapsed, bool final);
std::string ProgressBar(const ProgressOptions& options, std::int64_t done,
                        std::chrono::duration<double> elapsed);
// Seconds as "4 s", "2 min 5 s", "3 h 12 min" (rounded up to whole seconds).
std::string FormatSecondsLeft(double seconds);
// Time taken: "0.4 s", "9.9 s" below 10 s, else as FormatSecondsLeft.
std::string FormatElapsed(double seconds);

}  // namespace mh

#endif  // MH_CORE_PROGRESS_H_
