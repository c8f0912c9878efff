#include "test_db.h"

#include <cmath>
#include <memory>
#include <vector>

#include "codec/snapshot.h"
#include "sink/sqlite/sqlite_sink.h"

namespace mh::http::testing {

std::string FillTestDb(const std::string& path) {
  using sink::MachineState;
  using sink::WindowRecord;
  auto names = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{"crest_ax", "rms_ax"});
  auto record = [&](const std::string& id, int i) {
    WindowRecord r;
    r.machine_id = id;
    r.window_start_ns = kT0Ns + i * kStepNs;
    r.feature_names = names;
    r.features = {double(i), i / 8.0};
    r.rms = i / 4.0;
    r.threshold = 0;
    return r;
  };
  std::vector<WindowRecord> batch;
  for (int i = 0; i < 20; ++i) {
    WindowRecord r = record("m1", i);
    if (i >= 10) {
      r.score = r.state_score = i / 16.0;
      r.score_samples = -0.5 - i / 16.0;
      r.state = MachineState::kNormal;
    }
    batch.push_back(r);
  }
  for (int i = 0; i < 5; ++i) {
    WindowRecord r = record("m2", i);
    if (i >= 2) {
      r.score = r.state_score = -i / 32.0;
      r.score_samples = -0.5 - i / 32.0;
      r.anomaly = true;
      r.state = MachineState::kAnomalous;
    }
    batch.push_back(r);
  }
  for (int i = 0; i < 3; ++i) batch.push_back(record("m3", i));
  auto sink = sink::OpenSqliteSink({path});
  if (!sink.ok()) return sink.status().ToString();
  Status s = (*sink)->Write(batch);
  if (!s.ok()) return s.ToString();
  s = (*sink)->Close();
  return s.ok() ? "" : s.ToString();
}

std::vector<std::vector<double>> SnapshotSamplesOf(int i) {
  std::vector<std::vector<double>> x(2, std::vector<double>(kSnapshotSamples));
  const double pi = 3.14159265358979323846;
  for (std::size_t k = 0; k < kSnapshotSamples; ++k) {
    const double t = static_cast<double>(k) / kSnapshotFs;
    x[0][k] = 0.5 * std::sin(2 * pi * 1000 * t) + 0.1 * i;
    x[1][k] = 0.25 * std::cos(2 * pi * 3000 * t);
  }
  return x;
}

std::string AddTestSnapshots(const std::string& path) {
  auto names = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{"crest_ax", "rms_ax"});
  const std::vector<std::string> channels = {"ax", "ay"};
  std::vector<sink::WindowRecord> batches[2];
  auto add = [&](int batch, int i, bool periodic, const std::string& alarm) -> std::string {
    sink::WindowRecord r;
    r.machine_id = "m2";
    r.window_start_ns = kT0Ns + i * kStepNs;
    r.feature_names = names;
    r.features = {double(i), i / 8.0};
    r.rms = i / 4.0;
    r.threshold = 0;
    if (i >= 2) {
      r.score = r.state_score = -i / 32.0;
      r.score_samples = -0.5 - i / 32.0;
      r.anomaly = true;
      r.state = sink::MachineState::kAnomalous;
    }
    const auto x = SnapshotSamplesOf(i);
    std::vector<std::span<const double>> spans(x.begin(), x.end());
    auto blob = codec::EncodeSnapshot("m2", r.window_start_ns, kSnapshotFs, channels, spans);
    if (!blob.ok()) return blob.status().ToString();
    auto snap = std::make_shared<sink::WaveformSnapshot>();
    snap->window_start_ns = r.window_start_ns;
    snap->periodic = periodic;
    snap->alarm_id = alarm;
    snap->score = r.score;
    snap->fs_hz = kSnapshotFs;
    snap->samples = kSnapshotSamples;
    snap->blob = std::move(*blob);
    r.snapshots.push_back(std::move(snap));
    batches[batch].push_back(std::move(r));
    return "";
  };
  for (const std::string& e :
       {add(0, 0, true, ""), add(0, 2, false, "m2@A"), add(1, 3, true, "m2@A")}) {
    if (!e.empty()) return e;
  }
  auto sink = sink::OpenSqliteSink({path});
  if (!sink.ok()) return sink.status().ToString();
  for (const auto& batch : batches) {
    Status s = (*sink)->Write(batch);
    if (!s.ok()) return s.ToString();
  }
  Status s = (*sink)->Close();
  return s.ok() ? "" : s.ToString();
}

}  // namespace mh::http::testing
