// MachineConfig: what the machine registry knows about one machine (one
// sensor id of the event stream), with every derived value resolved once at
// load. The default member values below (and those of the stages' own
// structs it holds: alarm::AlarmRule, score::ThresholdOptions) ARE the
// built-in defaults: a field that neither the machine's table nor [defaults]
// of the machines file gives has that value (docs/machines.md lists them),
// unless the caller passes other base values to Registry::Load.
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

#include "alarm/alarm_tracker.h"
#include "core/result.h"
#include "features/bearing.h"
#include "features/feature_stage.h"
#include "features/velocity.h"
#include "score/baseline.h"

namespace mh::registry {

// What the samples measure. Shown by name ("g", "m/s^2", "mm/s").
enum class SampleUnit : std::uint8_t {
  kG = 0,                // acceleration in standard gravity
  kMetersPerS2 = 1,      // acceleration in m/s^2
  kMillimetersPerS = 2,  // velocity in mm/s
};
const char* SampleUnitName(SampleUnit unit);
// "g", "m/s^2" (also "m/s2", "m/s²") or "mm/s"; InvalidArgument otherwise.
// (The machines file refuses "mm/s": velocity input is not supported yet.)
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

// How long a machine learns its healthy baseline: a number of windows (by
// default the score stage's, score::LearnOptions) or a stretch of event time.
struct Learning {
  bool in_windows = true;  // true: `windows`; false: `duration`
  std::size_t windows = score::LearnOptions{}.learning_windows;  // > 0 when in_windows
  std::chrono::nanoseconds duration{0};                          // > 0 otherwise
};
// Windows to learn from when a window starts every `hop` (> 0): `windows`,
// or ceil(duration / hop), at least 1.
std::size_t LearningWindows(const Learning& learning, std::chrono::nanoseconds hop);
// "300 windows" or the duration as text ("30s", "10m", "1h30m", "250ms").
std::string LearningText(const Learning& learning);

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
  // K of N / M, the alarm stage's own struct and defaults (max_gap_ns is
  // left 0: the pipeline sets it from the hop, alarm::MaxGapForHop).
  alarm::AlarmRule alarm;
  // The threshold rule, the score stage's own struct and defaults.
  score::ThresholdOptions threshold;
  // A model from `train` or a scikit-learn .joblib to use instead of
  // learning (iforest::LoadAnyModel reads both); relative paths in the file
  // are resolved against the file's folder. "": learn the machine's own.
  std::string model;

  // Where the entry comes from.
  bool from_file = false;          // a [machines.<id>] table of the file
  std::int64_t first_seen_ns = 0;  // first sight (ns since epoch); 0 if from_file
  int file_line = 0;               // line of its table in the file; 0 if not from_file
};

// What the feature stage needs to know of the machine's streams: fs_hz,
// channels, the fixed rpm (0 when unknown or per event) and the bearing.
// Values the file leaves open (fs 0, no channels, rpm per event) are the
// caller's to fill from the events.
features::StreamShape StreamShapeOf(const MachineConfig& machine);

// The machine as one JSON object with stable keys (docs/machines.md), as
// `machine-health machines list --json` and GET /api/machines show it.
std::string MachineJson(const MachineConfig& machine);

}  // namespace mh::registry

#endif  // MH_REGISTRY_MACHINE_CONFIG_H_
