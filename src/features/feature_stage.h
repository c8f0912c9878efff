// Feature stage of the pipeline (source -> window -> **features** -> score
// -> alarm -> sinks): the one place where the feature options of every
// command (`run`, `score --from`, `features`, `replay`, `evaluate`) become
// a WindowFeatureExtractor, with one rule for bands and the Nyquist
// frequency, one band and bearing syntax, and one choice of the features a
// per-machine model scores.
//
// Nyquist policy: bands the user gave are used as given, and one above
// fs/2 is an error naming the band and fs (never silently clipped or
// dropped); the default bands (kDefaultBands) are fitted to each stream's
// rate: clipped to fs/2, and those left empty or without an FFT bin are
// dropped.
//
// Thread safety: FeatureStage is immutable after Create; MakeExtractor may
// be called from any thread (each caller gets its own extractor).
#ifndef MH_FEATURES_FEATURE_STAGE_H_
#define MH_FEATURES_FEATURE_STAGE_H_

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "features/bearing.h"
#include "features/spectrum.h"
#include "features/velocity.h"
#include "features/window_features.h"

namespace mh::features {

// 0-200, 200-1000, 1000-5000 and 5000-12800 Hz.
extern const std::vector<Band> kDefaultBands;

// "0-200,200-1000" -> bands; "" -> none. InvalidArgument naming `option`
// ("--bands") and the bad item.
Result<std::vector<Band>> ParseBands(std::string_view text, std::string_view option = "--bands");
// "0-200,200-1000".
std::string FormatBands(const std::vector<Band>& bands);
// A built-in bearing name (LookupBearing) or "Z,d,D,ANGLE". InvalidArgument
// naming `option`.
Result<BearingGeometry> ParseBearing(std::string_view text, std::string_view option = "--bearing");

// What the feature stage computes (shared by every command; the CLI
// registration is app/pipeline_options.h).
struct FeatureStageOptions {
  std::size_t window_samples = 512;
  // Empty: kDefaultBands fitted to each stream's rate.
  std::vector<Band> bands;
  FeatureSet set = FeatureSet::kBasic;
  AccelUnit unit = AccelUnit::kG;
  // Vector magnitude channel for streams of 2 or 3 channels.
  bool magnitude = false;
  // Feature names as the prototype wrote them (bandE0_200_ax) instead of
  // the library's (band_energy_0_200_ax): --names prototype.
  bool prototype_names = false;
};

// The bands for a stream at fs_hz under the policy above.
Result<std::vector<Band>> BandsForRate(const FeatureStageOptions& options, double fs_hz);

// The features of one stream shape.
struct StreamShape {
  double fs_hz = 0;
  std::vector<std::string> channels;
  double shaft_rpm = 0;  // 0 = unknown
  std::optional<BearingGeometry> bearing;
};

// FeatureOptions for a stream: window, bands, set, unit and magnitude from
// `options`, the rest from `shape` (a bearing without rpm is ignored;
// bearing features whose frequencies exceed fs/2 are left out).
// InvalidArgument naming the option (as the extractor checks it).
Result<FeatureOptions> MakeFeatureOptions(const FeatureStageOptions& options,
                                          const StreamShape& shape);

// A machine whose shaft speed comes with each event (the registry's
// rpm_field): the largest speed at which MakeFeatureOptions keeps the order
// features (3x below fs/2) and, with `bearing`, the envelope features
// (2 x BPFI below fs/2); a hair below the exact limit so that rounding never
// drops them. Create its features with this speed (the feature names do not
// depend on the speed) and set each window's speed with
// WindowFeatureExtractor::SetShaftRpm; an event faster than this is
// refused. 0 for fs <= 0 or an invalid bearing.
double MaxShaftRpm(double fs_hz, const std::optional<BearingGeometry>& bearing);

// The features a per-machine model scores by default, from the extractor's
// names: per channel the logarithm of the scale features (rms, rms_ac,
// peak_to_peak, every band_rms) and of the shape features that are >= 1
// (crest_factor, kurtosis), and skewness as is: docs/evaluation.md explains
// the choice. A name "log_<feature>" means ln(max(<feature>, DBL_MIN)).
std::vector<std::string> DefaultModelFeatures(const std::vector<std::string>& feature_names);

// Where a model feature comes from: feature_names[index], its logarithm
// when `log`.
struct ModelFeatureSource {
  std::size_t index = 0;
  bool log = false;
};
// `model_feature` is a feature name, or "log_" and a feature name (the name
// itself wins when both exist). NotFound when neither is computed.
Result<ModelFeatureSource> ResolveModelFeature(std::string_view model_feature,
                                               const std::vector<std::string>& feature_names);
// The value of a model feature from the window's feature vector.
double ModelFeatureValue(const ModelFeatureSource& source, std::span<const double> features);

// The name a feature is written under (prototype or library naming).
std::string OutputFeatureName(const FeatureStageOptions& options, std::string_view name);

}  // namespace mh::features

#endif  // MH_FEATURES_FEATURE_STAGE_H_
