#include "window/windower.h"

#include <algorithm>
#include <cmath>

#include "core/result.h"

namespace mh::window {

WindowStats& WindowStats::operator+=(const WindowStats& o) {
  blocks += o.blocks;
  samples += o.samples;
  windows += o.windows;
  dropped_samples += o.dropped_samples;
  skipped_samples += o.skipped_samples;
  gaps += o.gaps;
  out_of_order += o.out_of_order;
  restarts += o.restarts;
  return *this;
}

Status ValidateWindowOptions(const WindowOptions& o) {
  if (o.window_samples < 4) return Status::InvalidArgument("--window: expected an integer >= 4");
  if (o.window_samples > kMaxWindowSamples) {
    return Status::InvalidArgument("--window: " + std::to_string(o.window_samples) +
                                   " samples is above the maximum of " +
                                   std::to_string(kMaxWindowSamples) + " (docs/features.md)");
  }
  if (o.hop_samples > kMaxWindowSamples) {
    return Status::InvalidArgument("--hop: " + std::to_string(o.hop_samples) +
                                   " samples is above the maximum of " +
                                   std::to_string(kMaxWindowSamples));
  }
  if (!(o.gap_tolerance > 0) || !std::isfinite(o.gap_tolerance)) {
    return Status::InvalidArgument("gap tolerance: expected a number of samples > 0");
  }
  return Status::OK();
}

Windower::Windower(WindowOptions options)
    : options_(options),
      window_(options.window_samples),
      hop_(options.hop_samples == 0 ? options.window_samples : options.hop_samples) {}

void Windower::Restart(Stream& s) {
  const std::size_t pending = s.samples.empty() ? 0 : s.samples[0].size() - s.begin;
  s.stats.dropped_samples += static_cast<std::int64_t>(pending);
  for (auto& c : s.samples) c.clear();
  s.times.clear();
  s.tags.clear();
  s.begin = 0;
  s.first_index = 0;
  s.skip = 0;
  s.next_index = 0;
  s.started = false;
}

void Windower::Compact(Stream& s) {
  if (s.begin == 0 || s.begin * 2 < s.samples[0].size()) return;
  const auto d = static_cast<std::ptrdiff_t>(s.begin);
  for (auto& c : s.samples) c.erase(c.begin(), c.begin() + d);
  if (!s.times.empty()) s.times.erase(s.times.begin(), s.times.begin() + d);
  if (!s.tags.empty()) s.tags.erase(s.tags.begin(), s.tags.begin() + d);
  s.begin = 0;
}

Status Windower::Add(const Block& b, const Emit& emit) {
  if (!(b.fs_hz > 0) || !std::isfinite(b.fs_hz)) {
    return Status::InvalidArgument("stream '" + std::string(b.stream) +
                                   "': sampling rate must be a number > 0");
  }
  if (b.channels.empty()) {
    return Status::InvalidArgument("stream '" + std::string(b.stream) + "': no channel");
  }
  const std::size_t n = b.channels[0].size();
  for (std::size_t c = 1; c < b.channels.size(); ++c) {
    if (b.channels[c].size() != n) {
      return Status::InvalidArgument(
          "stream '" + std::string(b.stream) + "': channel " + std::to_string(c) + " has " +
          std::to_string(b.channels[c].size()) + " samples, channel 0 has " + std::to_string(n));
    }
  }
  if (!b.sample_times.empty() && b.sample_times.size() != n) {
    return Status::InvalidArgument("stream '" + std::string(b.stream) +
                                   "': sample times do not match the samples");
  }
  if (!b.tags.empty() && b.tags.size() != n) {
    return Status::InvalidArgument("stream '" + std::string(b.stream) +
                                   "': sample tags do not match the samples");
  }
  auto it = streams_.find(b.stream);
  if (it == streams_.end()) it = streams_.emplace(std::string(b.stream), Stream{}).first;
  Stream& s = it->second;
  ++s.stats.blocks;
  const bool per_sample = !b.sample_times.empty();
  const bool tagged = !b.tags.empty();
  if (s.started && (s.fs_hz != b.fs_hz || s.channels != b.channels.size() ||
                    s.per_sample_times != per_sample || s.tagged != tagged)) {
    ++s.stats.restarts;
    Restart(s);
  }
  if (s.started && !per_sample) {
    const double period_ns = 1e9 / s.fs_hz;
    const double expected =
        static_cast<double>(s.t0_ns) + std::round(static_cast<double>(s.next_index) * period_ns);
    const double diff = static_cast<double>(b.t0_ns) - expected;
    const double tol = options_.gap_tolerance * period_ns;
    if (diff < -tol) {
      ++s.stats.out_of_order;
      return Status::OK();
    }
    if (diff > tol) {
      ++s.stats.gaps;
      Restart(s);
    }
  }
  if (!s.started) {
    s.started = true;
    s.fs_hz = b.fs_hz;
    s.channels = b.channels.size();
    s.samples.resize(s.channels);
    s.per_sample_times = per_sample;
    s.tagged = tagged;
    s.t0_ns = b.t0_ns;
    s.next_index = 0;
    s.first_index = 0;
  }
  s.next_index += n;
  s.stats.samples += static_cast<std::int64_t>(n);

  // Windows are cut where the samples are: from the buffers while samples
  // of earlier blocks wait there, else straight from the block, so that a
  // block that fills whole windows (events of a window's length, the
  // simulator's chunks) is not copied first. Only what no window took yet
  // is kept in the buffers.
  spans_.resize(s.channels);
  const double period_ns = 1e9 / s.fs_hz;
  // Cuts every window of [*pos, avail) of `chans`; times and tags index like
  // the samples. *pos ends at the first sample still needed.
  auto cut = [&](const double* const* chans, const std::int64_t* times, const std::uint64_t* tags,
                 std::size_t avail, std::size_t* pos) -> Status {
    while (true) {
      const std::size_t pending = avail - *pos;
      if (s.skip > 0) {
        const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(s.skip, pending));
        *pos += k;
        s.first_index += k;
        s.skip -= k;
        s.stats.skipped_samples += static_cast<std::int64_t>(k);
        if (s.skip > 0) return Status::OK();
        continue;
      }
      if (pending < window_) return Status::OK();
      for (std::size_t c = 0; c < s.channels; ++c) {
        spans_[c] = std::span<const double>(chans[c] + *pos, window_);
      }
      Window w;
      w.stream = it->first;
      w.fs_hz = s.fs_hz;
      w.start_ns = per_sample ? times[*pos]
                              : s.t0_ns + static_cast<std::int64_t>(std::llround(
                                              static_cast<double>(s.first_index) * period_ns));
      w.first_sample = s.first_index;
      w.first_tag = tagged ? tags[*pos] : 0;
      w.channels = spans_;
      ++s.stats.windows;
      MH_RETURN_IF_ERROR(emit(w));
      const std::size_t drop = std::min(hop_, window_);
      *pos += drop;
      s.first_index += drop;
      s.skip = hop_ - drop;
    }
  };
  // Appends the block's samples from `from` on to the buffers.
  auto keep = [&](std::size_t from) {
    for (std::size_t c = 0; c < s.channels; ++c) {
      s.samples[c].insert(s.samples[c].end(), b.channels[c].begin() + from, b.channels[c].end());
    }
    if (per_sample)
      s.times.insert(s.times.end(), b.sample_times.begin() + from, b.sample_times.end());
    if (tagged) s.tags.insert(s.tags.end(), b.tags.begin() + from, b.tags.end());
  };
  ptrs_.resize(s.channels);
  if (s.samples[0].size() == s.begin) {
    // Nothing waits: cut from the block, keep the rest.
    for (auto& c : s.samples) c.clear();
    s.times.clear();
    s.tags.clear();
    s.begin = 0;
    for (std::size_t c = 0; c < s.channels; ++c) ptrs_[c] = b.channels[c].data();
    std::size_t pos = 0;
    const Status st = cut(ptrs_.data(), b.sample_times.data(), b.tags.data(), n, &pos);
    keep(pos);
    return st;
  }
  keep(0);
  for (std::size_t c = 0; c < s.channels; ++c) ptrs_[c] = s.samples[c].data();
  std::size_t pos = s.begin;
  const Status st = cut(ptrs_.data(), s.times.data(), s.tags.data(), s.samples[0].size(), &pos);
  s.begin = pos;
  MH_RETURN_IF_ERROR(st);
  Compact(s);
  return Status::OK();
}

void Windower::EndStream(std::string_view stream) {
  auto it = streams_.find(stream);
  if (it != streams_.end()) Restart(it->second);
}

void Windower::EndAll() {
  for (auto& [name, s] : streams_) Restart(s);
}

WindowStats Windower::stats(std::string_view stream) const {
  auto it = streams_.find(stream);
  return it == streams_.end() ? WindowStats{} : it->second.stats;
}

WindowStats Windower::total() const {
  WindowStats t;
  for (const auto& [name, s] : streams_) t += s.stats;
  return t;
}

}  // namespace mh::window
