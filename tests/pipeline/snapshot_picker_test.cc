// Waveform snapshots: the blob codec (codec/snapshot.h) and which windows
// keep their samples (pipeline/snapshot_picker.h), driven by a real
// AlarmTracker.
#include "pipeline/snapshot_picker.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "codec/snapshot.h"
#include "core/compression.h"

namespace mh::pipeline {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kMs = 1'000'000;
const std::vector<std::string> kChannels = {"ax", "ay", "az"};

// Samples of window i: distinct per window and channel, not float32-exact.
std::vector<std::vector<double>> SamplesOf(int i, std::size_t n = 256) {
  std::vector<std::vector<double>> out(kChannels.size(), std::vector<double>(n));
  for (std::size_t c = 0; c < out.size(); ++c) {
    for (std::size_t k = 0; k < n; ++k) {
      out[c][k] = std::sin(0.01 * static_cast<double>(k + 1) * (i + 1)) / 3.0 + 0.1 * c;
    }
  }
  return out;
}

TEST(SnapshotCodecTest, RoundTripsAtFloat32) {
  const auto samples = SamplesOf(7, 512);
  std::vector<std::span<const double>> spans(samples.begin(), samples.end());
  Result<std::string> blob =
      codec::EncodeSnapshot("pump-3", 1767225600123456789, 25600, kChannels, spans);
  ASSERT_TRUE(blob.ok()) << blob.status().ToString();
  // zstd of 3 x 512 float32 samples (6 KB) plus the header.
  EXPECT_LT(blob->size(), 3 * 512 * 4 + 100);
  Result<codec::SnapshotSamples> back = codec::DecodeSnapshot(*blob, "snapshot 1");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->sensor_id, "pump-3");
  EXPECT_EQ(back->timestamp_ns, 1767225600123456789);
  EXPECT_EQ(back->fs_hz, 25600);
  EXPECT_EQ(back->channels, kChannels);
  ASSERT_EQ(back->samples.size(), 3u);
  for (std::size_t c = 0; c < 3; ++c) {
    ASSERT_EQ(back->samples[c].size(), 512u);
    for (std::size_t k = 0; k < 512; ++k) {
      ASSERT_EQ(back->samples[c][k], static_cast<double>(static_cast<float>(samples[c][k])))
          << "channel " << c << " sample " << k;
    }
  }
}

TEST(SnapshotCodecTest, BadBlobsAreCorruptionNamingTheSnapshot) {
  const auto samples = SamplesOf(1);
  std::vector<std::span<const double>> spans(samples.begin(), samples.end());
  Result<std::string> blob = codec::EncodeSnapshot("m1", 0, 1000, kChannels, spans);
  ASSERT_TRUE(blob.ok());
  for (const std::string& bad :
       {std::string("not zstd at all"), blob->substr(0, blob->size() / 2),
        *Compress(Compression::kZstd, "a zstd frame holding no waveform record")}) {
    Result<codec::SnapshotSamples> r = codec::DecodeSnapshot(bad, "snapshot 42");
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    EXPECT_THAT(r.status().message(), HasSubstr("snapshot 42: "));
  }
  // Non-finite samples cannot be encoded.
  auto nan = samples;
  nan[1][5] = NAN;
  std::vector<std::span<const double>> nan_spans(nan.begin(), nan.end());
  EXPECT_TRUE(
      codec::EncodeSnapshot("m1", 0, 1000, kChannels, nan_spans).status().IsInvalidArgument());
}

// Feeds scores through a real AlarmTracker and the picker, as
// MachinePipeline does.
class PickerHarness {
 public:
  PickerHarness(SnapshotOptions options, alarm::AlarmRule rule)
      : tracker_(*alarm::AlarmTracker::Create("m1", rule)), picker_(options, "m1", kChannels) {}

  // Window i at t = t0 + i * 20 ms with `score` (NaN: learning) below the
  // threshold 0 when negative. Returns the window's record.
  sink::WindowRecord Window(int i, double score, std::int64_t t0 = 0) {
    samples_ = SamplesOf(i);
    spans_.assign(samples_.begin(), samples_.end());
    window::Window w;
    w.stream = "m1";
    w.fs_hz = 12800;
    w.start_ns = t0 + i * 20 * kMs;
    w.channels = spans_;
    sink::WindowRecord rec;
    rec.machine_id = "m1";
    rec.window_start_ns = w.start_ns;
    std::optional<alarm::AlarmUpdate> update;
    if (!std::isnan(score)) {
      rec.score = score;
      rec.anomaly = score < 0;
      auto u = tracker_.Observe({w.start_ns, score, score < 0});
      EXPECT_TRUE(u.ok());
      update = *u;
    }
    Status s = picker_.Pick(w, update, tracker_, &rec);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return rec;
  }
  const alarm::AlarmTracker& tracker() const { return tracker_; }
  const SnapshotPicker& picker() const { return picker_; }

 private:
  alarm::AlarmTracker tracker_;
  SnapshotPicker picker_;
  std::vector<std::vector<double>> samples_;
  std::vector<std::span<const double>> spans_;
};

// The window a snapshot's samples came from, by decoding it.
int WindowOfSamples(const sink::WaveformSnapshot& s) {
  Result<codec::SnapshotSamples> d = codec::DecodeSnapshot(s.blob, "test");
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  for (int i = 0; i < 1000; ++i) {
    const double want = static_cast<float>(SamplesOf(i)[0][3]);
    if (d->samples[0][3] == want && d->samples[2][100] == static_cast<float>(SamplesOf(i)[2][100]))
      return i;
  }
  return -1;
}

TEST(SnapshotPickerTest, PeriodicSnapshotsFollowEventTimeMultiples) {
  SnapshotOptions options;
  options.periodic_ns = 1000 * kMs;  // every second of event time
  options.alarm_peaks = false;
  PickerHarness h(options, alarm::AlarmRule{});
  std::vector<std::int64_t> taken;
  // 20 ms windows from t = 0.25 s for 3.5 s, learning then scoring.
  for (int i = 0; i < 175; ++i) {
    sink::WindowRecord r = h.Window(i, i < 60 ? NAN : 0.1, 250 * kMs);
    for (const auto& s : r.snapshots) {
      EXPECT_TRUE(s->periodic);
      EXPECT_TRUE(s->alarm_id.empty());
      EXPECT_EQ(s->window_start_ns, r.window_start_ns);
      EXPECT_EQ(WindowOfSamples(*s), i);
      taken.push_back(s->window_start_ns);
    }
  }
  // The first window, then the first window at or after 1 s, 2 s, 3 s
  // (windows start at 250 + 20 i ms: 1010, 2010, 3010 ms).
  EXPECT_EQ(taken, (std::vector<std::int64_t>{250 * kMs, 1010 * kMs, 2010 * kMs, 3010 * kMs}));
}

TEST(SnapshotPickerTest, AnAlarmKeepsItsPeakWindowEvenBeforeItOpened) {
  SnapshotOptions options;
  options.periodic_ns = 0;
  PickerHarness h(options, alarm::AlarmRule{3, 5, 5, 0});
  // Normal windows, then the onset: -0.3 (the peak so far), -0.1, then
  // -0.2 opens the alarm (3 of 5).
  const std::vector<double> scores = {0.1, 0.1, 0.1, 0.1, 0.1, -0.3, -0.1, -0.2};
  std::vector<const sink::WaveformSnapshot*> none;
  for (std::size_t i = 0; i + 1 < scores.size(); ++i) {
    EXPECT_TRUE(h.Window(static_cast<int>(i), scores[i]).snapshots.empty()) << i;
  }
  EXPECT_EQ(h.picker().held(), 2u);  // the two anomalous onset windows
  sink::WindowRecord opening = h.Window(7, -0.2);
  ASSERT_EQ(h.tracker().state(), alarm::AlarmState::kAlarm);
  const std::string id = h.tracker().open_alarm_id();
  ASSERT_EQ(opening.snapshots.size(), 1u);
  EXPECT_EQ(opening.snapshots[0]->alarm_id, id);
  EXPECT_EQ(opening.snapshots[0]->window_start_ns, 5 * 20 * kMs);  // window 5, the -0.3
  EXPECT_EQ(opening.snapshots[0]->score, -0.3);
  EXPECT_FALSE(opening.snapshots[0]->periodic);
  EXPECT_EQ(WindowOfSamples(*opening.snapshots[0]), 5);
  EXPECT_EQ(h.picker().held(), 0u);
  // A new peak while open replaces it; a milder window does not.
  sink::WindowRecord peak = h.Window(8, -0.5);
  ASSERT_EQ(peak.snapshots.size(), 1u);
  EXPECT_EQ(peak.snapshots[0]->alarm_id, id);
  EXPECT_EQ(WindowOfSamples(*peak.snapshots[0]), 8);
  EXPECT_TRUE(h.Window(9, -0.4).snapshots.empty());
  // Five normal windows close it; no snapshot for the close.
  for (int i = 10; i < 15; ++i) EXPECT_TRUE(h.Window(i, 0.2).snapshots.empty()) << i;
  EXPECT_EQ(h.tracker().state(), alarm::AlarmState::kNormal);
}

TEST(SnapshotPickerTest, HeldWindowsStayWithinTheRuleAndTheCap) {
  SnapshotOptions options;
  options.periodic_ns = 0;
  // k = n = 5: alternating anomalous windows never open an alarm.
  PickerHarness h(options, alarm::AlarmRule{5, 5, 5, 0});
  for (int i = 0; i < 200; ++i) {
    EXPECT_TRUE(h.Window(i, i % 2 == 0 ? -0.1 : 0.1).snapshots.empty());
    EXPECT_LE(h.picker().held(), 3u);  // anomalous among the last 5
  }
  // A rule with n = 1000: the cap holds.
  PickerHarness wide(options, alarm::AlarmRule{1000, 1000, 5, 0});
  for (int i = 0; i < 300; ++i) wide.Window(i, -0.01 * (i % 7 + 1));
  EXPECT_EQ(wide.picker().held(), kMaxHeldWindows);
}

}  // namespace
}  // namespace mh::pipeline
