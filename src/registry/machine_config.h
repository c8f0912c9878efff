// MachineConfig: what the machine registry knows about one machine (one
// sensor id of the event stream), with every derived value resolved once at
// load. The default member values below ARE the built-in defaults: a field
// that neither the machine's table nor [defaults] of the machines file gives
// has the value written here (docs/machines.md lists them).
//
// Thread safety: plain value type; a const MachineConfig may be read from any
// number of threads.
#ifndef MH_REGISTRY_MACHINE_CONFIG_H_
#define MH_REGISTRY_MACHINE_CONFIG_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "features/bearing.h"
#include "features/velocity.h"

namespace mh::registry {

// What the samples measure. Shown by name ("g", "m/s^2", "mm/s").
enum class SampleUnit : std::uint8_t {
  kG = 0,                // acceleration in standard gravity
  kMetersPerS2 = 1,      // acceleration in m/s^2
  kMillimetersPerS = 2,  // velocity in mm/s
};
const char* SampleUnitName(SampleUnit unit);
// "g", "m/s^2" (also "m/s2") or "mm/s"; InvalidArgument otherwise.
Result<SampleUnit> ParseSampleUnit(std::string_view text);

// Where the shaft speed comes from.
enum class ShaftSpeedSource : std::uint8_t {
  kNone = 0,        // unknown: no bearing frequencies
  kFixed = 1,       // `rpm` in the file
  kEventField = 2,  // `rpm_field`: a field of each event carries the rpm
};
struct ShaftSpeed {
  ShaftSpeedSource source = ShaftSpeedSource::kNone;
  double rpm = 0;       // kFixed: revolutions per minute, > 0
  double shaft_hz = 0;  // kFixed: rpm / 60, resolved at load
  std::string field;    // kEventField: the event field's name
};

// The machine's bearing: none, a built-in one (features::LookupBearing) or a
// geometry given in the file (name "custom").
struct Bearing {
  std::string name;  // "" (none), "6205", "za2115", "femto" or "custom"
  std::optional<features::BearingGeometry> geometry;  // set iff name != ""
  // Defect frequencies at the fixed shaft speed; set iff geometry and a
  // fixed rpm are both known.
  std::optional<features::BearingFrequencies> frequencies;
};

// How long a machine learns its healthy baseline: a number of windows or a
// stretch of event time.
struct Learning {
  bool in_windows = false;  // true: `windows`; false: `duration`
  std::size_t windows = 0;  // > 0 when in_windows
  std::chrono::nanoseconds duration = std::chrono::seconds(30);  // > 0 otherwise
};
// Windows to learn from when a window starts every `hop` (> 0): `windows`,
// or ceil(duration / hop), at least 1.
std::size_t LearningWindows(const Learning& learning, std::chrono::nanoseconds hop);
// "300 windows" or the duration as text ("30s", "10m", "1h30m", "250ms").
std::string LearningText(const Learning& learning);

// An alarm opens when k of the last n windows are anomalous and closes after
// m consecutive normal windows. 1 <= k <= n <= kMaxAlarmWindows, m >= 1.
inline constexpr int kMaxAlarmWindows = 10000;
struct AlarmRule {
  int k = 3;
  int n = 5;
  int m = 5;
};

// How a machine's anomaly threshold (on decision_function, lower = more
// anomalous) is derived from its own training scores. Every rule subtracts
// `margin` (>= 0) from its base value.
enum class ThresholdKind : std::uint8_t {
  kAuto = 0,      // 0: scikit-learn's contamination "auto"
  kQuantile = 1,  // the q-quantile of the training scores, 0 < q < 0.5
  kRobustZ = 2,   // median - z * 1.4826 * MAD of the training scores, z > 0
};
const char* ThresholdKindName(ThresholdKind kind);  // "auto", "quantile", "robust_z"
struct ThresholdRule {
  ThresholdKind kind = ThresholdKind::kQuantile;
  double q = 0.005;   // kQuantile
  double z = 3.5;     // kRobustZ
  double margin = 0;  // every rule
};

struct MachineConfig {
  std::string id;                     // the sensor/machine id of the events
  std::string name;                   // display name; the id when not given
  std::string location;               // free text, "" when not given
  double fs_hz = 0;                   // sampling rate in Hz; 0: as each event says
  std::vector<std::string> channels;  // channel names; empty: every channel
  SampleUnit unit = SampleUnit::kG;
  ShaftSpeed shaft;
  Bearing bearing;
  features::IsoGroup iso_group = features::IsoGroup::kGroup2;  // ISO 20816-3
  features::Foundation foundation = features::Foundation::kRigid;
  Learning learning;
  AlarmRule alarm;
  ThresholdRule threshold;
  // A model from `train` or a scikit-learn .joblib to use instead of
  // learning (iforest::LoadAnyModel reads both); relative paths in the file
  // are resolved against the file's folder. "": learn the machine's own.
  std::string model;

  // Where the entry comes from.
  bool from_file = false;          // a [machines.<id>] table of the file
  std::int64_t first_seen_ns = 0;  // first sight (ns since epoch); 0 if from_file
  int file_line = 0;               // line of its table in the file; 0 if not from_file
};

// The machine as one JSON object with stable keys (docs/machines.md), as
// `machine-health machines list --json` and GET /api/machines show it.
std::string MachineJson(const MachineConfig& machine);

}  // namespace mh::registry

#endif  // MH_REGISTRY_MACHINE_CONFIG_H_
