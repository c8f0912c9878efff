// Windower: the one window stage of the pipeline (source -> **window** ->
// features -> score -> alarm -> sinks). It cuts each sensor stream into
// windows of `window_samples` samples that start every `hop_samples`
// samples, and gives every window its event time. Used by `run` (simulated
// and live sources), `score --from`, `features`, `replay` and `evaluate`.
//
// Streams. Samples arrive in blocks (an event, a snapshot file, a batch of
// table rows), each for one stream (a sensor id, or a machine of a file).
// Every stream keeps its own samples; streams never mix. A stream's shape
// is its sampling rate and channel count: a block of another shape restarts
// the stream (resampled sensor: `restarts`), dropping the samples that did
// not fill a window.
//
// Time. A block carries the event time of its first sample (ns since the
// epoch) or, for table rows, the time of every sample. With block times the
// samples of a block follow the previous block's when its time is the
// expected next sample time within `gap_tolerance` of a sample period:
//   - later than that: a gap (a snapshot logger, a lost event). The samples
//     held back are dropped (counted) and the stream starts afresh at the
//     block, so windows never span a gap (`gaps`);
//   - earlier than that: out of order (a late or re-delivered event). The
//     block is dropped whole and counted (`out_of_order`): a window's
//     samples are always in time order.
// A window's event time is that of its first sample: with block times,
// t0 + round(k * 1e9 / fs) for its k-th sample since the stream (re)started
// (no drift); with per-sample times, that sample's time.
//
// Hop. hop_samples = 0 means hop = window (no overlap); hop < window
// overlaps; hop > window skips hop - window samples between windows
// (counted as `skipped_samples`, not as dropped).
//
// Thread safety: none; one Windower per thread. The Window handed to the
// callback (its spans) is valid only during the call.
#ifndef MH_WINDOW_WINDOWER_H_
#define MH_WINDOW_WINDOWER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace mh::window {

// Largest window accepted (features::kMaxWindowSamples: 2^22 samples).
inline constexpr std::size_t kMaxWindowSamples = std::size_t{1} << 22;

struct WindowOptions {
  std::size_t window_samples = 512;  // 4 .. kMaxWindowSamples
  std::size_t hop_samples = 0;       // 0 = window_samples; 1 .. kMaxWindowSamples otherwise
  // Block-time continuity tolerance, in sample periods (> 0).
  double gap_tolerance = 0.5;
};

// InvalidArgument naming --window / --hop for values out of range.
Status ValidateWindowOptions(const WindowOptions& options);

// One block of samples of one stream.
struct Block {
  std::string_view stream;
  double fs_hz = 0;  // > 0, finite
  // channels[c]: the samples of channel c, all the same length.
  std::span<const std::span<const double>> channels;
  // Event time of channels[*][0], ns since the epoch (used when
  // sample_times is empty).
  std::int64_t t0_ns = 0;
  // Optional: the event time of every sample (table rows with a timestamp
  // column); no gap detection then.
  std::span<const std::int64_t> sample_times;
  // Optional: a caller's number per sample (e.g. the file row), handed back
  // as Window::first_tag.
  std::span<const std::uint64_t> tags;
};

struct Window {
  std::string_view stream;
  double fs_hz = 0;
  std::int64_t start_ns = 0;       // event time of the first sample
  std::uint64_t first_sample = 0;  // index of the first sample since the stream (re)started
  std::uint64_t first_tag = 0;     // Block::tags of the first sample (0 without tags)
  std::span<const std::span<const double>> channels;  // window_samples each
};

struct WindowStats {
  std::int64_t blocks = 0;
  std::int64_t samples = 0;  // per channel, accepted
  std::int64_t windows = 0;
  std::int64_t dropped_samples = 0;  // per channel: held back when a gap, restart or end came
  std::int64_t skipped_samples = 0;  // per channel: between windows (hop > window)
  std::int64_t gaps = 0;
  std::int64_t out_of_order = 0;  // blocks dropped
  std::int64_t restarts = 0;      // shape (fs or channel count) changed
  WindowStats& operator+=(const WindowStats& o);
};

class Windower {
 public:
  using Emit = std::function<Status(const Window&)>;

  explicit Windower(WindowOptions options);  // options validated by the caller

  const WindowOptions& options() const { return options_; }
  std::size_t window_samples() const { return window_; }
  std::size_t hop_samples() const { return hop_; }

  // Adds a block and calls `emit` for every window it completes, in order.
  // InvalidArgument (nothing of the block kept) for a bad fs, channels of
  // different lengths, no channel, or sample_times/tags of another length.
  // An error returned by `emit` stops the block and is returned.
  Status Add(const Block& block, const Emit& emit);

  // Ends a stream (end of file, source closed): samples that filled no
  // window are dropped and counted; the next block starts it afresh.
  void EndStream(std::string_view stream);
  // EndStream for every stream.
  void EndAll();

  // Per-stream and total counters.
  WindowStats stats(std::string_view stream) const;
  WindowStats total() const;

 private:
  struct Stream {
    double fs_hz = 0;
    std::size_t channels = 0;
    std::vector<std::vector<double>> samples;  // per channel; [begin, end) pending
    std::vector<std::int64_t> times;           // per sample, when per-sample times
    std::vector<std::uint64_t> tags;           // per sample, when tags
    std::size_t begin = 0;                     // first pending sample in the buffers
    std::uint64_t first_index = 0;             // index (since start) of samples[.][begin]
    std::uint64_t skip = 0;                    // samples still to skip (hop > window)
    bool started = false;
    bool per_sample_times = false;
    bool tagged = false;           // blocks carry tags (not: the tag buffer is non-empty)
    std::int64_t t0_ns = 0;        // event time of sample index 0 (block times)
    std::uint64_t next_index = 0;  // index of the next sample to arrive
    WindowStats stats;
  };
  void Restart(Stream& s);
  void Compact(Stream& s);

  WindowOptions options_;
  std::size_t window_;
  std::size_t hop_;
  std::map<std::string, Stream, std::less<>> streams_;
  std::vector<std::span<const double>> spans_;
  std::vector<const double*> ptrs_;  // the channels Add cuts windows from
};

}  // namespace mh::window

#endif  // MH_WINDOW_WINDOWER_H_
