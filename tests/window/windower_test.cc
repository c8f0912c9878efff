#include "window/windower.h"

#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mh::window {
namespace {

struct Seen {
  std::string stream;
  std::int64_t start_ns;
  std::uint64_t first_sample;
  std::uint64_t first_tag;
  std::vector<double> ch0;
};

// Adds `n` samples 0, 1, 2... (continuing `*next`) of one channel.
Status AddRamp(Windower& w, std::string_view stream, double fs, std::int64_t t0, std::size_t n,
               double* next, std::vector<Seen>* seen) {
  std::vector<double> x(n);
  for (auto& v : x) v = (*next)++;
  const std::span<const double> ch[1] = {x};
  Block b;
  b.stream = stream;
  b.fs_hz = fs;
  b.channels = ch;
  b.t0_ns = t0;
  return w.Add(b, [&](const Window& win) {
    seen->push_back({std::string(win.stream), win.start_ns, win.first_sample, win.first_tag,
                     std::vector<double>(win.channels[0].begin(), win.channels[0].end())});
    return Status::OK();
  });
}

TEST(WindowerTest, ValidatesOptions) {
  EXPECT_TRUE(ValidateWindowOptions({4, 0, 0.5}).ok());
  EXPECT_NE(ValidateWindowOptions({3, 0, 0.5}).message().find("--window"), std::string::npos);
  EXPECT_NE(ValidateWindowOptions({kMaxWindowSamples + 1, 0, 0.5}).message().find("maximum"),
            std::string::npos);
  EXPECT_NE(ValidateWindowOptions({8, kMaxWindowSamples + 1, 0.5}).message().find("--hop"),
            std::string::npos);
  EXPECT_FALSE(ValidateWindowOptions({8, 0, 0}).ok());
}

TEST(WindowerTest, ContiguousBlocksMakeWindowsAcrossBlockBoundaries) {
  Windower w({4, 0, 0.5});
  std::vector<Seen> seen;
  double next = 0;
  const double fs = 1000;  // 1 ms per sample
  std::int64_t t = 1'000'000'000;
  for (std::size_t n : {3u, 3u, 3u, 3u}) {
    ASSERT_TRUE(AddRamp(w, "m1", fs, t, n, &next, &seen).ok());
    t += static_cast<std::int64_t>(n) * 1'000'000;
  }
  ASSERT_EQ(seen.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(seen[i].first_sample, 4 * i);
    EXPECT_EQ(seen[i].start_ns, 1'000'000'000 + static_cast<std::int64_t>(4 * i) * 1'000'000);
    EXPECT_EQ(seen[i].ch0, (std::vector<double>{4.0 * i, 4.0 * i + 1, 4.0 * i + 2, 4.0 * i + 3}));
  }
  EXPECT_EQ(w.stats("m1").windows, 3);
  EXPECT_EQ(w.stats("m1").gaps, 0);
  w.EndAll();
  EXPECT_EQ(w.stats("m1").dropped_samples, 0);
}

TEST(WindowerTest, HopOverlapsAndSkips) {
  {
    Windower w({4, 2, 0.5});
    std::vector<Seen> seen;
    double next = 0;
    ASSERT_TRUE(AddRamp(w, "s", 100, 0, 10, &next, &seen).ok());
    ASSERT_EQ(seen.size(), 4u);  // starts 0, 2, 4, 6
    EXPECT_EQ(seen[3].ch0.front(), 6);
    EXPECT_EQ(seen[3].start_ns, 60'000'000);
  }
  {
    Windower w({4, 6, 0.5});  // skip 2 samples between windows
    std::vector<Seen> seen;
    double next = 0;
    ASSERT_TRUE(AddRamp(w, "s", 100, 0, 5, &next, &seen).ok());
    ASSERT_TRUE(AddRamp(w, "s", 100, 50'000'000, 12, &next, &seen).ok());
    ASSERT_EQ(seen.size(), 3u);  // starts 0, 6, 12
    EXPECT_EQ(seen[1].ch0.front(), 6);
    EXPECT_EQ(seen[2].ch0.front(), 12);
    EXPECT_EQ(seen[2].first_sample, 12u);
    EXPECT_EQ(w.stats("s").skipped_samples, 5);  // 4-5, 10-11 and 16
  }
}

TEST(WindowerTest, GapDropsHeldSamplesAndRestartsAtTheBlock) {
  Windower w({4, 0, 0.5});
  std::vector<Seen> seen;
  double next = 0;
  ASSERT_TRUE(AddRamp(w, "m", 1000, 0, 6, &next, &seen).ok());  // window 0..3, 2 held
  // 10 s later (a snapshot logger): the 2 held samples are dropped.
  ASSERT_TRUE(AddRamp(w, "m", 1000, 10'000'000'000, 4, &next, &seen).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].start_ns, 10'000'000'000);
  EXPECT_EQ(seen[1].first_sample, 0u);
  EXPECT_EQ(seen[1].ch0.front(), 6);
  EXPECT_EQ(w.stats("m").gaps, 1);
  EXPECT_EQ(w.stats("m").dropped_samples, 2);
}

TEST(WindowerTest, JitterWithinToleranceIsNoGap) {
  Windower w({4, 0, 0.5});
  std::vector<Seen> seen;
  double next = 0;
  ASSERT_TRUE(AddRamp(w, "m", 1000, 0, 2, &next, &seen).ok());
  ASSERT_TRUE(AddRamp(w, "m", 1000, 2'000'000 + 400'000, 2, &next, &seen).ok());  // 0.4 sample late
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].start_ns, 0);
  EXPECT_EQ(w.stats("m").gaps, 0);
}

TEST(WindowerTest, OutOfOrderBlockIsDroppedAndCounted) {
  Windower w({4, 0, 0.5});
  std::vector<Seen> seen;
  double next = 0;
  ASSERT_TRUE(AddRamp(w, "m", 1000, 0, 4, &next, &seen).ok());
  ASSERT_TRUE(AddRamp(w, "m", 1000, 4'000'000, 2, &next, &seen).ok());
  // A re-delivered earlier block: dropped.
  ASSERT_TRUE(AddRamp(w, "m", 1000, 0, 4, &next, &seen).ok());
  ASSERT_TRUE(AddRamp(w, "m", 1000, 6'000'000, 2, &next, &seen).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].ch0, (std::vector<double>{4, 5, 10, 11}));
  EXPECT_EQ(seen[1].start_ns, 4'000'000);
  EXPECT_EQ(w.stats("m").out_of_order, 1);
}

TEST(WindowerTest, ResampledStreamRestarts) {
  Windower w({4, 0, 0.5});
  std::vector<Seen> seen;
  double next = 0;
  ASSERT_TRUE(AddRamp(w, "m", 1000, 0, 3, &next, &seen).ok());
  ASSERT_TRUE(AddRamp(w, "m", 2000, 3'000'000, 4, &next, &seen).ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].ch0.front(), 3);
  EXPECT_EQ(w.stats("m").restarts, 1);
  EXPECT_EQ(w.stats("m").dropped_samples, 3);
}

TEST(WindowerTest, StreamsDoNotMix) {
  Windower w({4, 0, 0.5});
  std::vector<Seen> seen;
  double a = 0, b = 100;
  ASSERT_TRUE(AddRamp(w, "a", 1000, 0, 2, &a, &seen).ok());
  ASSERT_TRUE(AddRamp(w, "b", 1000, 0, 3, &b, &seen).ok());
  ASSERT_TRUE(AddRamp(w, "a", 1000, 2'000'000, 2, &a, &seen).ok());
  ASSERT_TRUE(AddRamp(w, "b", 1000, 3'000'000, 1, &b, &seen).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].stream, "a");
  EXPECT_EQ(seen[0].ch0, (std::vector<double>{0, 1, 2, 3}));
  EXPECT_EQ(seen[1].stream, "b");
  EXPECT_EQ(seen[1].ch0, (std::vector<double>{100, 101, 102, 103}));
  EXPECT_EQ(w.total().windows, 2);
}

// A block of stream `stream` at 1 Hz with a time and a tag per sample.
Block TimedBlock(std::string_view stream, std::span<const std::span<const double>> channels,
                 std::span<const std::int64_t> times, std::span<const std::uint64_t> tags) {
  Block b;
  b.stream = stream;
  b.fs_hz = 1;
  b.channels = channels;
  b.sample_times = times;
  b.tags = tags;
  return b;
}

TEST(WindowerTest, PerSampleTimesAndTags) {
  Windower w({3, 2, 0.5});
  std::vector<double> x = {1, 2, 3, 4, 5, 6, 7};
  std::vector<double> y = {10, 20, 30, 40, 50, 60, 70};
  std::vector<std::int64_t> times = {5, 7, 100, 101, 102, 500, 501};  // any times
  std::vector<std::uint64_t> tags = {11, 12, 13, 14, 15, 16, 17};
  const std::span<const double> ch[2] = {x, y};
  const Block b = TimedBlock("f", ch, times, tags);
  std::vector<Seen> seen;
  ASSERT_TRUE(w.Add(b, [&](const Window& win) {
                 EXPECT_EQ(win.channels.size(), 2u);
                 EXPECT_EQ(win.channels[1][0], 10 * win.channels[0][0]);
                 seen.push_back(
                     {std::string(win.stream), win.start_ns, win.first_sample, win.first_tag,
                      std::vector<double>(win.channels[0].begin(), win.channels[0].end())});
                 return Status::OK();
               }).ok());
  ASSERT_EQ(seen.size(), 3u);  // starts at samples 0, 2, 4
  EXPECT_EQ(seen[1].start_ns, 100);
  EXPECT_EQ(seen[1].first_tag, 13u);
  EXPECT_EQ(seen[2].start_ns, 102);
  EXPECT_EQ(seen[2].first_tag, 15u);
}

// Regression: a stream of tagged blocks whose tag buffer was emptied (every
// sample consumed by a window or skipped) was taken for an untagged one and
// restarted, which lost the hop's skip and the sample index.
TEST(WindowerTest, TaggedBlocksContinueTheStreamAfterEveryPendingSampleIsUsed) {
  Windower w({2, 3, 0.5});  // windows of 2 every 3 samples: starts 0, 3, 6, 9
  std::vector<std::uint64_t> firsts, tags_seen;
  for (std::uint64_t i = 0; i < 12; i += 2) {
    std::vector<double> x = {static_cast<double>(i), static_cast<double>(i + 1)};
    std::vector<std::int64_t> times = {static_cast<std::int64_t>(i),
                                       static_cast<std::int64_t>(i + 1)};
    std::vector<std::uint64_t> tags = {100 + i, 101 + i};
    const std::span<const double> ch[1] = {x};
    ASSERT_TRUE(w.Add(TimedBlock("m", ch, times, tags), [&](const Window& win) {
                   firsts.push_back(win.first_sample);
                   tags_seen.push_back(win.first_tag);
                   return Status::OK();
                 }).ok());
  }
  EXPECT_EQ(firsts, (std::vector<std::uint64_t>{0, 3, 6, 9}));
  EXPECT_EQ(tags_seen, (std::vector<std::uint64_t>{100, 103, 106, 109}));
  EXPECT_EQ(w.stats("m").restarts, 0);
  EXPECT_EQ(w.stats("m").skipped_samples, 4);  // samples 2, 5, 8, 11
}

TEST(WindowerTest, BadBlocksAreRejectedWholeAndEmitErrorsStop) {
  Windower w({4, 0, 0.5});
  std::vector<double> x = {1, 2, 3, 4}, y = {1, 2};
  const std::span<const double> ch[2] = {x, y};
  Block b;
  b.stream = "m";
  b.fs_hz = 100;
  b.channels = ch;
  auto none = [](const Window&) { return Status::OK(); };
  EXPECT_NE(w.Add(b, none).message().find("channel 1 has 2 samples"), std::string::npos);
  b.channels = std::span<const std::span<const double>>(ch, 1);
  b.fs_hz = NAN;
  EXPECT_NE(w.Add(b, none).message().find("sampling rate"), std::string::npos);
  b.fs_hz = 100;
  EXPECT_EQ(w.stats("m").samples, 0);
  Status s = w.Add(b, [](const Window&) { return Status::Corruption("sink full"); });
  EXPECT_EQ(s.message(), "sink full");
}

TEST(WindowerTest, LongStreamTimesDoNotDrift) {
  // 25.6 kHz for an hour in 2560-sample blocks: the window times are
  // t0 + k * 1e9 / fs exactly (rounded), not a sum of rounded periods.
  Windower w({2560, 0, 0.5});
  const double fs = 25600;
  std::vector<double> x(2560, 0.0);
  const std::span<const double> ch[1] = {x};
  std::int64_t last = 0;
  std::uint64_t count = 0;
  for (std::uint64_t k = 0; k < 36000; ++k) {
    Block b;
    b.stream = "m";
    b.fs_hz = fs;
    b.channels = ch;
    b.t0_ns = 7 + static_cast<std::int64_t>(std::llround(static_cast<double>(k) * 2560 * 1e9 / fs));
    ASSERT_TRUE(w.Add(b, [&](const Window& win) {
                   last = win.start_ns;
                   ++count;
                   return Status::OK();
                 }).ok());
  }
  EXPECT_EQ(count, 36000u);
  EXPECT_EQ(last, 7 + 35999LL * 100'000'000);
  EXPECT_EQ(w.stats("m").gaps, 0);
}

// Whatever the block sizes (windows cut from a block, across blocks, or from
// samples held back), the windows are those of one long block: window k
// starts at sample k * hop.
TEST(WindowerTest, BlockSizesDoNotChangeTheWindows) {
  const std::size_t total = 400;
  std::vector<double> x(total), y(total);
  std::vector<std::int64_t> times(total);
  std::vector<std::uint64_t> tags(total);
  for (std::size_t i = 0; i < total; ++i) {
    x[i] = static_cast<double>(i);
    y[i] = -static_cast<double>(i);
    times[i] = 1000 + 3 * static_cast<std::int64_t>(i);
    tags[i] = 7 * i;
  }
  struct Case {
    std::size_t window, hop;
  };
  for (const Case c : {Case{8, 0}, Case{8, 3}, Case{8, 11}, Case{16, 16}}) {
    for (const bool per_sample : {false, true}) {
      SCOPED_TRACE("window " + std::to_string(c.window) + " hop " + std::to_string(c.hop) +
                   (per_sample ? " per-sample times" : ""));
      const std::size_t hop = c.hop == 0 ? c.window : c.hop;
      Windower w({c.window, c.hop, 0.5});
      std::vector<Seen> seen;
      // Sizes that end exactly on windows, fall short of one, and span many.
      const std::size_t sizes[] = {8, 8, 3, 5, 16, 1, 40, 7, 9, 32, 2, 64};
      std::size_t at = 0, k = 0;
      while (at < total) {
        const std::size_t n = std::min(sizes[k++ % std::size(sizes)], total - at);
        const std::span<const double> ch[2] = {std::span<const double>(x).subspan(at, n),
                                               std::span<const double>(y).subspan(at, n)};
        Block b;
        b.stream = "m";
        b.fs_hz = 1e9 / 3;  // 3 ns per sample, as the per-sample times
        b.channels = ch;
        b.t0_ns = 1000 + 3 * static_cast<std::int64_t>(at);
        if (per_sample) b.sample_times = std::span<const std::int64_t>(times).subspan(at, n);
        b.tags = std::span<const std::uint64_t>(tags).subspan(at, n);
        ASSERT_TRUE(w.Add(b, [&](const Window& win) {
                       EXPECT_EQ(win.channels[1][0], -win.channels[0][0]);
                       seen.push_back(
                           {std::string(win.stream), win.start_ns, win.first_sample, win.first_tag,
                            std::vector<double>(win.channels[0].begin(), win.channels[0].end())});
                       return Status::OK();
                     }).ok());
        at += n;
      }
      const std::size_t expected = (total - c.window) / hop + 1;
      ASSERT_EQ(seen.size(), expected);
      for (std::size_t i = 0; i < expected; ++i) {
        const std::size_t first = i * hop;
        EXPECT_EQ(seen[i].first_sample, first);
        EXPECT_EQ(seen[i].start_ns, times[first]);
        EXPECT_EQ(seen[i].first_tag, tags[first]);
        std::vector<double> want(x.begin() + static_cast<std::ptrdiff_t>(first),
                                 x.begin() + static_cast<std::ptrdiff_t>(first + c.window));
        EXPECT_EQ(seen[i].ch0, want);
      }
      EXPECT_EQ(w.stats("m").windows, static_cast<std::int64_t>(expected));
    }
  }
}

// A window whose emit failed is cut again by the next block, whether the
// failure came while cutting from a block or from samples held back.
TEST(WindowerTest, AWindowWhoseEmitFailedComesAgain) {
  for (const std::size_t held : {0u, 2u}) {
    SCOPED_TRACE(std::to_string(held) + " samples held back");
    Windower w({4, 0, 0.5});
    std::vector<Seen> seen;
    double next = 0;
    if (held > 0) {
      ASSERT_TRUE(AddRamp(w, "m", 1000, 0, held, &next, &seen).ok());
    }
    std::vector<double> a(16 - held);
    for (auto& v : a) v = next++;
    const std::span<const double> ch[1] = {a};
    Block b;
    b.stream = "m";
    b.fs_hz = 1000;  // 1 ms per sample
    b.channels = ch;
    b.t0_ns = static_cast<std::int64_t>(held) * 1'000'000;
    int calls = 0;
    const Status s = w.Add(b, [&](const Window& win) {
      if (++calls == 2) return Status::Unavailable("sink away");
      seen.push_back({std::string(win.stream), win.start_ns, win.first_sample, win.first_tag,
                      std::vector<double>(win.channels[0].begin(), win.channels[0].end())});
      return Status::OK();
    });
    EXPECT_EQ(s.message(), "sink away");
    ASSERT_TRUE(AddRamp(w, "m", 1000, 16'000'000, 4, &next, &seen).ok());
    ASSERT_EQ(seen.size(), 5u);  // samples 0, 4 (the failed one, again), 8, 12, 16
    for (std::size_t i = 0; i < 5; ++i) {
      const double f = 4.0 * static_cast<double>(i);
      EXPECT_EQ(seen[i].first_sample, 4 * i);
      EXPECT_EQ(seen[i].ch0, (std::vector<double>{f, f + 1, f + 2, f + 3}));
      EXPECT_EQ(seen[i].start_ns, static_cast<std::int64_t>(4 * i) * 1'000'000);
    }
  }
}

}  // namespace
}  // namespace mh::window
