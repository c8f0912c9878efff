#include "test_db.h"

#include <cmath>
#include <memory>
#include <vector>

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

}  // namespace mh::http::testing
