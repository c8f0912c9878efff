#include "core/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

#include <unistd.h>

namespace mh {
namespace {

using Seconds = std::chrono::duration<double>;

// Items per second, or a negative value while none is known.
double Rate(std::int64_t done, Seconds elapsed) {
  if (done <= 0 || elapsed.count() <= 0) return -1;
  return static_cast<double>(done) / elapsed.count();
}

std::string FormatRate(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, rate >= 100 ? "%.0f" : rate >= 10 ? "%.1f" : "%.2f", rate);
  return buf;
}

std::string FormatPercent(std::int64_t done, std::int64_t total) {
  char buf[32];
  const double p =
      total > 0 ? 100.0 * static_cast<double>(std::min(done, total)) / static_cast<double>(total)
                : 0;
  std::snprintf(buf, sizeof buf, "%.1f %%", p);
  return buf;
}

std::string Count(const ProgressOptions& o, std::int64_t done) {
  std::string s = std::to_string(done);
  if (o.total > 0) s += "/" + std::to_string(o.total);
  return s + " " + o.unit;
}

}  // namespace

Result<ProgressMode> ParseProgressMode(std::string_view text) {
  if (text == "auto") return ProgressMode::kAuto;
  if (text == "bar") return ProgressMode::kBar;
  if (text == "lines") return ProgressMode::kLines;
  if (text == "off") return ProgressMode::kOff;
  return Status::InvalidArgument("--progress: expected auto, bar, lines or off, got '" +
                                 std::string(text) + "'");
}

ProgressMode ResolveProgressMode(ProgressMode mode, bool is_terminal) {
  if (mode != ProgressMode::kAuto) return mode;
  return is_terminal ? ProgressMode::kBar : ProgressMode::kLines;
}

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

std::string FormatSecondsLeft(double seconds) {
  const auto s = static_cast<std::int64_t>(std::ceil(std::max(0.0, seconds)));
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) {
    return std::to_string(s / 60) + " min" + (s % 60 ? " " + std::to_string(s % 60) + " s" : "");
  }
  const std::int64_t min = (s % 3600) / 60;
  return std::to_string(s / 3600) + " h" + (min ? " " + std::to_string(min) + " min" : "");
}

std::string FormatElapsed(double seconds) {
  if (seconds >= 10) return FormatSecondsLeft(seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", std::max(0.0, seconds));
  return buf;
}

std::string ProgressLine(const ProgressOptions& o, std::int64_t done, Seconds elapsed, bool final) {
  std::string s = o.label + ": " + Count(o, done);
  if (o.total > 0) s += " (" + FormatPercent(done, o.total) + ")";
  const double rate = Rate(done, elapsed);
  if (rate > 0) s += ", " + FormatRate(rate) + " " + o.unit + "/s";
  if (final) return s + ", done in " + FormatElapsed(elapsed.count());
  if (rate > 0 && o.total > 0) {
    s += ", " +
         FormatSecondsLeft(static_cast<double>(std::max<std::int64_t>(0, o.total - done)) / rate) +
         " left";
  }
  return s;
}

std::string ProgressBar(const ProgressOptions& o, std::int64_t done, Seconds elapsed) {
  std::string s = o.label + " ";
  if (o.total > 0) {
    const int width = std::max(1, o.bar_width);
    const auto filled =
        static_cast<int>(static_cast<double>(width) * static_cast<double>(std::min(done, o.total)) /
                         static_cast<double>(o.total));
    s += "[" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(width - filled), '.') + "]  " +
         FormatPercent(done, o.total) + "  ";
  }
  s += Count(o, done);
  const double rate = Rate(done, elapsed);
  if (rate > 0) s += "  " + FormatRate(rate) + " " + o.unit + "/s";
  if (rate > 0 && o.total > 0) {
    s += "  " +
         FormatSecondsLeft(static_cast<double>(std::max<std::int64_t>(0, o.total - done)) / rate) +
         " left";
  }
  return s;
}

Progress::Progress(ProgressOptions options, std::ostream& out, Clock now)
    : options_(std::move(options)), out_(out), now_(std::move(now)) {
  if (!now_) now_ = [] { return std::chrono::steady_clock::now(); };
  if (options_.mode == ProgressMode::kAuto) options_.mode = ProgressMode::kLines;
  start_ = now_();
  last_draw_ = start_;
}

Progress::~Progress() {
  if (!finished_ && drawn_width_ > 0) out_ << "\n" << std::flush;
}

void Progress::Advance(std::int64_t n) {
  done_ += n;
  if (finished_ || options_.mode == ProgressMode::kOff) return;
  const auto now = now_();
  const auto interval =
      options_.mode == ProgressMode::kBar ? options_.bar_interval : options_.line_interval;
  if (now - last_draw_ < interval) return;
  last_draw_ = now;
  Draw(false);
}

void Progress::Finish() {
  if (finished_) return;
  const bool quiet =
      options_.mode == ProgressMode::kOff ||
      (options_.mode == ProgressMode::kLines && !drew_ && !options_.last_line_if_quick);
  if (!quiet) Draw(true);
  finished_ = true;
}

void Progress::Draw(bool final) {
  drew_ = true;
  const Seconds elapsed = now_() - start_;
  if (options_.mode == ProgressMode::kLines) {
    out_ << ProgressLine(options_, done_, elapsed, final) << "\n" << std::flush;
    return;
  }
  std::string bar = ProgressBar(options_, done_, elapsed);
  const std::size_t width = bar.size();
  // Blank out what a longer previous line left on screen.
  if (width < drawn_width_) bar += std::string(drawn_width_ - width, ' ');
  out_ << "\r" << bar;
  drawn_width_ = width;
  if (final) out_ << "\n";
  out_ << std::flush;
}

}  // namespace mh
