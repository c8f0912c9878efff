// WindowRecord: everything the pipeline knows about one window of one
// machine after scoring; the unit that sinks store. Plain value type.
#ifndef MH_SINK_WINDOW_RECORD_H_
#define MH_SINK_WINDOW_RECORD_H_

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mh::sink {

// Serialized (as text) in the database: values are fixed.
enum class MachineState : std::uint8_t { kLearning = 0, kNormal = 1, kAnomalous = 2 };
const char* MachineStateName(MachineState state);  // "learning", "normal", "anomalous"

// The raw samples of one window, kept compressed by the SQLite store
// (docs/database.md, "Waveform snapshots"); chosen by
// pipeline::SnapshotPicker. Other sinks ignore snapshots.
struct WaveformSnapshot {
  std::int64_t window_start_ns = 0;  // the window whose samples these are
  bool periodic = false;             // the machine's periodic snapshot
  // Non-empty: the peak (lowest-score) window of this alarm so far; a later
  // peak of the same alarm replaces it.
  std::string alarm_id;
  double score = NAN;         // the window's decision_function (NaN while learning)
  double fs_hz = 0;           // sampling rate
  std::uint32_t samples = 0;  // per channel
  std::string blob;           // codec::EncodeSnapshot: zstd of a float32 waveform record
};

// Which model file scored a window (`score --from` with a fixed --model):
// shared by the records of one model, replaced on a hot reload.
struct ModelProvenance {
  std::string version;         // the first 12 hex digits of sha256: the model version
  std::string sha256;          // lower-case hex SHA-256 of the model file's bytes
  std::string source;          // the --model source as shown (no secrets)
  std::int64_t loaded_ns = 0;  // wall clock of its load, ns since the epoch
};

struct WindowRecord {
  std::string machine_id;            // e.g. "m1"
  std::int64_t window_start_ns = 0;  // event time of the window's first sample
  // Feature names, shared by all records of one pipeline (never null).
  std::shared_ptr<const std::vector<std::string>> feature_names;
  std::vector<double> features;  // same order and length as *feature_names
  double rms = 0;                // RMS of the acceleration vector, g
  // Scores in scikit-learn's convention (lower = more anomalous). NaN while
  // the machine is learning (no model yet).
  double score = NAN;          // decision_function
  double score_samples = NAN;  // score_samples
  bool anomaly = false;        // predict == -1 for this window
  // Machine state after this window (smoothed over recent windows).
  MachineState state = MachineState::kLearning;
  double state_score = NAN;  // smoothed score that decided `state`
  double threshold = 0;      // decision_function value below which a window is anomalous
  // Version of the machine's baseline that scored this window (score::Baseline::version);
  // 0 while learning.
  std::int64_t baseline_version = 0;
  // The model file that scored this window; null when none is known (the
  // machine's own learned baselines). Sinks store model->version.
  std::shared_ptr<const ModelProvenance> model{};
  // Waveform snapshots this window yields (usually none; its own samples,
  // or an alarm's peak among the windows just before it).
  std::vector<std::shared_ptr<const WaveformSnapshot>> snapshots;
};

}  // namespace mh::sink

#endif  // MH_SINK_WINDOW_RECORD_H_
