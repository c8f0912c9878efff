// A variable-speed drive (MachineSpec::rpm_field, the registry's
// rpm_field): each JSON waveform event carries the shaft speed, the order
// and bearing features of a window are computed at the sample-weighted mean
// speed of its events, and an event without a usable speed is a dead letter
// naming the field.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "codec/waveform_binary.h"
#include "features/bearing.h"
#include "features/feature_stage.h"
#include "features/window_features.h"
#include "pipeline/stream_scorer.h"
#include "sink/running_sink.h"
#include "testing/memory_io.h"
#include "transport/inproc_transport.h"

namespace mh::pipeline {
namespace {

constexpr double kFs = 12800;
constexpr std::size_t kEventSamples = 4096;
constexpr std::size_t kWindow = 4096;  // one event per window ...
constexpr std::size_t kHop = 2048;     // ... or half of two
constexpr double kCarrierHz = 2000;    // inside the envelope band fs/16..fs/4

features::BearingGeometry Bearing6205() { return features::LookupBearing("6205").value(); }

// BPFO of the 6205 at `rpm`.
double BpfoHz(double rpm) {
  return features::ComputeBearingFrequencies(Bearing6205(), rpm / 60).value().bpfo_hz;
}

// An outer-race defect: a carrier amplitude-modulated at `defect_hz`.
std::vector<double> Signal(std::size_t first, std::size_t n, double defect_hz) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(first + i) / kFs;
    x[i] = (1 + 0.8 * std::cos(2 * M_PI * defect_hz * t)) * std::cos(2 * M_PI * kCarrierHz * t);
  }
  return x;
}

// A JSON waveform event with channel "ax"; `rpm_member` is appended as is
// (e.g. ,"shaft_rpm":1500) unless empty.
std::string Event(double t_s, const std::vector<double>& x, const std::string& rpm_member) {
  char head[128];
  std::snprintf(head, sizeof head, R"({"sensor_id":"vfd","timestamp":%.6f,"fs":%g)", t_s, kFs);
  std::string ev = head + rpm_member + ",\"ax\":[";
  for (std::size_t i = 0; i < x.size(); ++i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s%.17g", i ? "," : "", x[i]);
    ev += buf;
  }
  return ev + "]}";
}

std::string RpmMember(double rpm) {
  char buf[64];
  std::snprintf(buf, sizeof buf, R"(,"shaft_rpm":%.17g)", rpm);
  return buf;
}

struct RunResult {
  std::vector<sink::WindowRecord> records;
  std::vector<std::string> dead;
};

RunResult RunEvents(std::vector<std::string> events, const std::string& channel_name) {
  testing::ListSubscriber source(std::move(events));
  auto capture = std::make_unique<testing::RecordingSink>();
  testing::RecordingSink* cap = capture.get();
  sink::RunningSink running("capture", std::move(capture));
  auto dead_pub = transport::NewInprocPublisher(channel_name);
  auto dead_sub = transport::NewInprocSubscriber(channel_name);
  StreamScorerOptions o;
  o.window_samples = kWindow;
  o.hop_samples = kHop;
  o.pipeline.window.window_samples = kWindow;
  o.pipeline.window.hop_samples = kHop;
  o.configure_machine = [](MachineSpec* spec) {
    spec->rpm_field = "shaft_rpm";
    spec->shape.bearing = Bearing6205();
  };
  auto scorer = StreamScorer::CreateLearning(source, {&running}, dead_pub.get(), o);
  EXPECT_TRUE(scorer.ok()) << scorer.status().ToString();
  RunResult out;
  if (!scorer.ok()) return out;
  std::atomic<bool> stop{false};
  EXPECT_TRUE(scorer.value()->Run(stop).ok());
  out.records = cap->records;
  auto dead = dead_sub->Poll(100, std::chrono::milliseconds(0));
  EXPECT_TRUE(dead.ok());
  if (dead.ok()) {
    for (const auto& d : *dead) out.dead.push_back(d.payload);
  }
  return out;
}

std::size_t FeatureIndex(const sink::WindowRecord& r, const std::string& name) {
  const auto& n = *r.feature_names;
  const auto it = std::find(n.begin(), n.end(), name);
  EXPECT_NE(it, n.end()) << name;
  return static_cast<std::size_t>(it - n.begin());
}

// The features of `x` at a fixed speed, as a machine with `rpm` configured.
std::vector<double> FixedSpeedFeatures(const std::vector<double>& x, double rpm) {
  features::FeatureStageOptions so;
  so.window_samples = kWindow;
  features::StreamShape shape;
  shape.fs_hz = kFs;
  shape.channels = {"ax"};
  shape.shaft_rpm = rpm;
  shape.bearing = Bearing6205();
  auto fo = features::MakeFeatureOptions(so, shape);
  EXPECT_TRUE(fo.ok()) << fo.status().ToString();
  auto ex = features::WindowFeatureExtractor::Create(*fo);
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  std::vector<double> out(ex.value()->names().size());
  const std::vector<std::span<const double>> spans = {x};
  EXPECT_TRUE(ex.value()->Compute(spans, out).ok());
  return out;
}

TEST(RpmField, BearingFeaturesFollowTheSpeedOfEachWindowsEvents) {
  // Four events, each at its own speed with the defect at that speed's BPFO.
  // Windows hop by half an event: every other window is one event, the
  // others hold half of two events (their mean speed, sample-weighted).
  const std::vector<double> rpm = {1200, 1600, 2000, 2400};
  std::vector<std::string> events;
  std::vector<double> stream;
  for (std::size_t e = 0; e < rpm.size(); ++e) {
    const std::size_t first = e * kEventSamples;
    const std::vector<double> x = Signal(first, kEventSamples, BpfoHz(rpm[e]));
    stream.insert(stream.end(), x.begin(), x.end());
    events.push_back(Event(100 + static_cast<double>(first) / kFs, x, RpmMember(rpm[e])));
  }
  const RunResult run = RunEvents(std::move(events), "dead-rpm-track");
  EXPECT_TRUE(run.dead.empty()) << run.dead[0];
  const std::size_t windows = (stream.size() - kWindow) / kHop + 1;  // 7
  ASSERT_EQ(run.records.size(), windows);
  const std::size_t bpfo = FeatureIndex(run.records[0], "env_bpfo_ax");
  for (std::size_t w = 0; w < windows; ++w) {
    const std::vector<double> x(stream.begin() + static_cast<std::ptrdiff_t>(w * kHop),
                                stream.begin() + static_cast<std::ptrdiff_t>(w * kHop + kWindow));
    const double speed = w % 2 == 0 ? rpm[w / 2] : (rpm[w / 2] + rpm[w / 2 + 1]) / 2;
    const std::vector<double> expect = FixedSpeedFeatures(x, speed);
    // Every feature as a machine configured with that fixed speed has it.
    EXPECT_EQ(run.records[w].features, expect) << "window " << w << " at " << speed << " rpm";
    if (w % 2 != 0) continue;
    // One event's window: the defect stands out at its speed; at another
    // event's speed the envelope line misses it.
    const double env = run.records[w].features[bpfo];
    const double off = FixedSpeedFeatures(x, w == 0 ? rpm[3] : rpm[0])[bpfo];
    EXPECT_GT(env, 0.2) << "window " << w;
    EXPECT_GT(env, 5 * off) << "window " << w;
  }
}

TEST(RpmField, EventsWithoutAUsableSpeedAreDeadLettersNamingTheField) {
  const std::vector<double> x = Signal(0, kEventSamples, BpfoHz(1500));
  codec::WaveformHeader h;
  h.sensor_id = "vfd";
  h.has_timestamp = true;
  h.timestamp_ns = 300000000000;
  h.fs_hz = kFs;
  std::string binary;
  const std::vector<std::string> names = {"ax"};
  const std::vector<std::vector<double>> channels = {x};
  ASSERT_TRUE(
      codec::AppendWaveformBinary(h, names, channels, codec::kMaxWaveformSamples, &binary).ok());
  const double max_rpm = features::MaxShaftRpm(kFs, Bearing6205());
  std::vector<std::string> events = {
      Event(100, x, RpmMember(1500)),           // good
      Event(110, x, ""),                        // missing
      Event(120, x, R"(,"shaft_rpm":"fast")"),  // not a number
      Event(130, x, RpmMember(0)),              // zero
      Event(140, x, RpmMember(-1500)),          // negative
      Event(150, x, RpmMember(max_rpm * 2)),    // above what fs allows
      binary,                                   // no room for the field
      Event(200, x, RpmMember(1500)),           // good: these two follow each other
      Event(200 + static_cast<double>(kEventSamples) / kFs, x, RpmMember(1500)),
  };
  const RunResult run = RunEvents(std::move(events), "dead-rpm-bad");
  ASSERT_EQ(run.dead.size(), 6u);
  const std::vector<std::string> want = {
      "missing field 'shaft_rpm' (the machine's shaft speed, rpm_field)",
      "field 'shaft_rpm' (shaft speed) is string, expected rpm > 0",
      "field 'shaft_rpm' (shaft speed) is 0, expected rpm > 0",
      "field 'shaft_rpm' (shaft speed) is -1500, expected rpm > 0",
      "field 'shaft_rpm' (shaft speed) is ",  // ... rpm, above the ... rpm
      "binary waveform event has no field 'shaft_rpm'"};
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_NE(run.dead[i].find(want[i]), std::string::npos) << run.dead[i];
  }
  EXPECT_NE(run.dead[4].find("or 2 x BPFI reaches fs/2"), std::string::npos) << run.dead[4];
  // The good events still make their windows: one of the first (the
  // rejected ones leave a gap), three of the last two, which follow each
  // other.
  ASSERT_EQ(run.records.size(), 4u);
  EXPECT_EQ(run.records[0].window_start_ns, 100000000000);
  EXPECT_EQ(run.records[1].window_start_ns, 200000000000);
  EXPECT_EQ(run.records[3].window_start_ns, 200320000000);
}

}  // namespace
}  // namespace mh::pipeline
