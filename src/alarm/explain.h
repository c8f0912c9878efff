// Explain: why a machine is in alarm, for a maintenance planner. From the
// feature values of the alarm's windows (or only its peak window) and the
// machine's baseline (mean and std of each feature over the training rows):
// the features that deviate most in standard deviations, the ISO 20816-3
// zone of the vibration velocity, and which bearing defect frequency
// (BPFO/BPFI/BSF/FTF) stands out in the envelope spectrum. Rendered as a
// struct, a one-line sentence and JSON with stable keys (docs/alarms.md).
//
// Thread safety: pure functions.
#ifndef MH_ALARM_EXPLAIN_H_
#define MH_ALARM_EXPLAIN_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "features/velocity.h"
#include "score/baseline.h"

namespace mh::alarm {

struct ExplainOptions {
  // Features listed in Explanation::top (1..100).
  std::size_t top_features = 3;
  // A baseline std below max(std_floor_relative * |mean|, std_floor_absolute)
  // (a feature constant in training) is replaced by that floor, so that a
  // deviation stays finite and is flagged `std_floored`.
  double std_floor_relative = 0.01;
  double std_floor_absolute = 1e-9;
  // The machine's ISO 20816-3 class (from the registry).
  features::IsoGroup iso_group = features::IsoGroup::kGroup2;
  features::Foundation foundation = features::Foundation::kRigid;
  // A bearing defect stands out when its evidence is at least this many sd
  // and at least `bearing_ratio` times the next defect's.
  double bearing_min_sd = 3;
  double bearing_ratio = 1.5;
};

// One feature against its baseline.
struct FeatureDeviation {
  std::string feature;
  double value = 0;  // the alarm's value (median over the rows given)
  double baseline_mean = 0;
  double baseline_std = 0;   // as given (before any floor)
  double sd = 0;             // (value - mean) / std, signed
  bool std_floored = false;  // the std was below the floor and replaced
};

// Serialized (JSON names): explicit values.
enum class BearingDefect : std::uint8_t { kBpfo = 0, kBpfi = 1, kBsf = 2, kFtf = 3 };
// "BPFO", "BPFI", "BSF", "FTF".
const char* BearingDefectName(BearingDefect defect);

// A defect's evidence against the baseline: its strongest fundamental line
// env_<defect>_<ch> (any channel), which ranks the defects, and its
// strongest 2x line env_2<defect>_<ch>, reported beside it only (a 2x line
// may be another defect's harmonic: 2 x BPFI of the 6205 is within 0.7 % of
// 3 x BPFO).
struct DefectEvidence {
  BearingDefect defect = BearingDefect::kBpfo;
  FeatureDeviation strongest;
  std::optional<FeatureDeviation> harmonic;
};

// The ISO 20816-3 zone of the largest velocity_rms_<channel> of the input
// channels (the magnitude channel is not a measurement direction).
struct IsoEvidence {
  std::string feature;
  double velocity_mm_s = 0;
  features::IsoZone zone = features::IsoZone::kA;
  features::IsoGroup group = features::IsoGroup::kGroup2;
  features::Foundation foundation = features::Foundation::kRigid;
};

inline constexpr const char* kNoEnvelopeFeatures =
    "no envelope features (no bearing geometry or shaft speed configured)";
inline constexpr const char* kNoEnvelopeStatistics =
    "the baseline has no statistics of the envelope features (retrain or learn anew)";

struct Explanation {
  // Largest |sd| first (ties: feature order), at most top_features.
  std::vector<FeatureDeviation> top;
  // nullopt when there is no velocity_rms feature (basic feature set).
  std::optional<IsoEvidence> iso;
  // The four defects, strongest first; empty when the features have no
  // env_* amplitudes (no bearing or shaft speed configured).
  std::vector<DefectEvidence> bearing;
  std::optional<BearingDefect> standing_out;
  // Why `bearing` is empty ("" when it is not): kNoEnvelopeFeatures, or
  // kNoEnvelopeStatistics when the windows have env_* features but the
  // baseline has no statistics of them (a baseline stored before its
  // statistics included them, or an assigned model): the evidence is then
  // unavailable, not "no defect".
  std::string bearing_unavailable;
  // "kurtosis_ay +8.1 sd, env_bpfo_ay +5.2 sd, rms_ay +3.0 sd; BPFO stands
  // out in the envelope spectrum (+5.2 sd); ISO 20816 zone C (velocity_rms_ay
  // 5.10 mm/s, group 2 rigid)"; a std_floored feature that moved is shown
  // as "peak_freq_ay 4000 (constant 29.95 in training)". Without bearing
  // statistics: "; bearing evidence unavailable (<kNoEnvelopeStatistics>)".
  std::string sentence;
};

// Explains the windows whose feature values are `rows` (each in `names`
// order; the value of a feature is its median over the rows, so one row is
// the peak window itself) against `baseline`, the statistics of the
// machine's training rows (score::Baseline::stats; names, mean and std are
// used, min and max may be empty). Features without a baseline entry are
// left out of the deviations and the bearing evidence (the ISO zone needs
// none), so the model features and the extractor's features of the windows
// can be passed side by side. InvalidArgument naming the row or feature for
// no rows, a row of the wrong length, a non-finite value, a baseline without
// statistics or with unequal lengths, a duplicate name, a non-finite mean or
// a negative or non-finite std, options out of range, or no feature in
// common with the baseline.
Result<Explanation> Explain(const std::vector<std::string>& names,
                            std::span<const std::vector<double>> rows,
                            const score::FeatureStats& baseline,
                            const ExplainOptions& options = {});

// One JSON object, keys in a fixed order (docs/alarms.md, "Explanation").
std::string ExplanationJson(const Explanation& explanation);

}  // namespace mh::alarm

#endif  // MH_ALARM_EXPLAIN_H_
