// WindowFeatureExtractor: the fixed list of vibration features computed for
// one window of every channel (time-domain statistics, spectral peak, band
// energy and band RMS; optionally spectral shape, velocity, shaft orders and
// bearing envelope amplitudes). Formulas: docs/features.md.
//
// Input samples are float64 or float32 (the Compute overloads); float32
// samples are widened exactly to float64 and every computation is float64.
// With FeatureOptions::magnitude the vector magnitude of the channels is
// computed per sample and analysed as one more channel ("mag").
//
// Thread safety: an extractor is not thread-safe; use one per thread. All
// buffers (FFT plan, scratch, the magnitude and float32 conversion buffers)
// are allocated in Create; Compute does not allocate.
#ifndef MH_FEATURES_WINDOW_FEATURES_H_
#define MH_FEATURES_WINDOW_FEATURES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"
#include "features/bearing.h"
#include "features/spectrum.h"
#include "features/velocity.h"

namespace mh::features {

// Name of the vector magnitude channel (FeatureOptions::magnitude): its
// features are named like any channel's, e.g. rms_mag, kurtosis_mag.
inline constexpr std::string_view kMagnitudeChannel = "mag";

// Names (before "_<channel>") of features other components look up by name
// (the alarm explanation): velocity_rms of the full set, and the eight
// envelope amplitudes of a bearing in output order (defect frequency, then
// twice it).
inline constexpr std::string_view kVelocityRmsFeature = "velocity_rms";
inline constexpr std::string_view kEnvelopeFeatures[] = {
    "env_bpfo", "env_bpfi", "env_bsf", "env_ftf", "env_2bpfo", "env_2bpfi", "env_2bsf", "env_2ftf"};
// True for "<one of kEnvelopeFeatures>_<channel>" (a non-empty channel).
constexpr bool IsEnvelopeFeature(std::string_view name) {
  for (std::string_view prefix : kEnvelopeFeatures) {
    if (name.size() > prefix.size() + 1 && name.substr(0, prefix.size()) == prefix &&
        name[prefix.size()] == '_') {
      return true;
    }
  }
  return false;
}

// Largest FeatureOptions::window_samples accepted: 2^22 = 4,194,304 samples
// (164 s at 25.6 kHz, 87 s at 48 kHz). The extractor holds a few buffers of N
// doubles per channel plus the FFT plan (about 300 MB at this size with three
// channels, the magnitude and the envelope), so larger windows are refused
// before anything is allocated.
inline constexpr std::size_t kMaxWindowSamples = std::size_t{1} << 22;

// Which features per channel. Serialized in options: explicit values.
enum class FeatureSet : std::uint8_t {
  kBasic = 0,  // the list in WindowFeatureExtractor::names()
  kFull = 1,   // basic, then spectral_centroid, spectral_spread, spectral_flatness,
               // shape_factor, impulse_factor, clearance_factor,
               // zero_crossing_rate, velocity_rms (mm/s, 10..min(1000, fs/2) Hz)
};

// What the extractor computes.
struct FeatureOptions {
  // Sampling rate of every channel, Hz (> 0).
  double sample_rate_hz = 25600;
  // Samples per window and channel (4 .. kMaxWindowSamples); also the FFT
  // length.
  std::size_t window_samples = 2560;
  // Channel names, used as feature name suffixes; non-empty, distinct.
  std::vector<std::string> channels = {"ax", "ay", "az"};
  // Also compute the features of the vector magnitude
  // m_n = sqrt(x_0,n^2 + x_1,n^2 + ...) of all channels (summed in channel
  // order), as one more channel named kMagnitudeChannel after the others.
  // Needs at least 2 channels, none of them named "mag". Off by default here
  // (the pipeline's feature vector is unchanged); `machine-health features`
  // turns it on for 2+ channels unless --no-mag.
  bool magnitude = false;
  // Bands for band_energy_* and band_rms_*; 0 <= lo <= hi <= fs/2, and each
  // must hold at least one FFT bin (bin width fs / window_samples).
  std::vector<Band> bands = {{0, 200}};
  // Feature list; kBasic is what the pipeline uses.
  FeatureSet set = FeatureSet::kBasic;
  // Unit of the samples (acceleration), used by velocity_rms (full set).
  AccelUnit unit = AccelUnit::kG;

  // --- Machine speed and bearing (any set) ---
  // Shaft speed in rev/min; 0 = unknown. When > 0, order1x, order2x and
  // order3x are appended (3 x shaft frequency must be <= fs/2).
  double shaft_rpm = 0;
  // Bearing geometry (see LookupBearing); needs shaft_rpm > 0. When set, the
  // envelope amplitudes env_bpfo, env_bpfi, env_bsf, env_ftf, env_2bpfo,
  // env_2bpfi, env_2bsf, env_2ftf are appended (2 x BPFI must be <= fs/2).
  std::optional<BearingGeometry> bearing;
  // Envelope band-pass band; nullopt = DefaultEnvelopeBand(fs) (fs/16..fs/4).
  std::optional<Band> envelope_band;
};

// The checks WindowFeatureExtractor::Create makes (listed there), without
// allocating anything: for commands that validate their options before they
// know every channel. OK or InvalidArgument naming the option.
Status ValidateFeatureOptions(const FeatureOptions& options);

class WindowFeatureExtractor {
 public:
  // Validates `options` and plans the FFT. InvalidArgument (naming the
  // option) for fs <= 0 or non-finite, a window < 4 or > kMaxWindowSamples
  // (checked before anything is allocated), no channels, an empty or
  // duplicate channel name, magnitude with fewer than 2 channels or with a
  // channel named "mag", a band with a negative or non-finite edge, lo > hi,
  // hi > fs/2, or a band that holds no FFT bin (the message names the band
  // and the bin width).
  static Result<std::unique_ptr<WindowFeatureExtractor>> Create(const FeatureOptions& options);

  ~WindowFeatureExtractor();
  WindowFeatureExtractor(const WindowFeatureExtractor&) = delete;
  WindowFeatureExtractor& operator=(const WindowFeatureExtractor&) = delete;

  // "<feature>_<channel>" in a fixed order: for each output channel
  // (output_channels(): the input channels, then "mag" if enabled;
  // contiguous):
  // mean, rms, rms_ac, peak, peak_to_peak, crest_factor, skewness, kurtosis,
  // peak_freq, peak_amp, then for each band band_energy_LO_HI and
  // band_rms_LO_HI (LO/HI printed as integers when integral, e.g.
  // band_energy_0_200_ax). The full set appends its features (FeatureSet)
  // after the bands, then order1x order2x order3x (shaft_rpm > 0), then the
  // eight env_* features (bearing given), still per channel.
  const std::vector<std::string>& names() const { return names_; }
  // Number of features per channel (names().size() / channels).
  std::size_t features_per_channel() const { return per_channel_; }
  // The options this extractor was created with.
  const FeatureOptions& options() const { return options_; }
  // The channels whose features names() lists, in order: options().channels,
  // then kMagnitudeChannel when options().magnitude.
  const std::vector<std::string>& output_channels() const { return output_channels_; }

  // Sets the shaft speed the order and bearing-frequency features of the
  // next Compute calls use (a variable-speed drive: the speed of each
  // window). The features themselves (names()) stay those of Create, so the
  // extractor must have been created with a shaft speed > 0. Does not
  // allocate. InvalidArgument, nothing changed, when it was created without
  // a speed, for a speed that is not finite and > 0, or one that puts order
  // 3x or 2 x BPFI above fs/2.
  Status SetShaftRpm(double shaft_rpm);

  // Computes names().size() values into `out`, in names() order. Does not
  // allocate.
  // `channels[c]` is the window of options().channels[c]. InvalidArgument
  // when channels.size() != options().channels.size(), a span is not
  // window_samples long, out.size() != names().size(), or a sample is NaN or
  // infinite (the message names the channel and the 0-based sample index;
  // for "mag", a magnitude that overflows to infinity), or a feature of
  // finite samples lies beyond the float64 range (e.g. band_energy of
  // samples near 1e200; the message names the feature). Windows whose
  // max |x| is outside [2^-200, 2^200] are scaled by a power of two before
  // squaring, so that moments, RMS and spectra neither overflow nor
  // underflow; inside that range nothing is scaled (results as numpy's). On
  // error `out` is unspecified.
  Status Compute(std::span<const std::span<const double>> channels, std::span<double> out);
  // The same for float32 samples (a float32 logger, a Parquet FLOAT column):
  // each sample is widened exactly to float64 into a buffer allocated in
  // Create, so the result equals Compute on the float32 values upcast to
  // float64 (numpy: x.astype(np.float64)). Does not allocate.
  Status Compute(std::span<const std::span<const float>> channels, std::span<double> out);

 private:
  struct Scratch;
  WindowFeatureExtractor(FeatureOptions options, std::unique_ptr<Scratch> scratch);
  // Features of `x` (the samples scaled by 2^-exponent) into `out`, then
  // scaled back by 2^(k * exponent) for a feature in signal units to the
  // power k. InvalidArgument naming `channel` and the feature when a value
  // is beyond the float64 range.
  Status ComputeChannel(std::span<const double> x, int exponent, std::string_view channel,
                        std::span<double> out);
  // Count and length checks shared by both Compute overloads.
  template <typename T>
  Status CheckShapes(std::span<const std::span<const T>> channels, std::span<double> out) const;

  FeatureOptions options_;
  std::vector<std::string> output_channels_;
  std::vector<std::string> names_;
  std::size_t per_channel_ = 0;
  // Per feature of a channel: its power of the signal unit (0 for
  // dimensionless values and Hz, 1 for rms, 2 for band energies).
  std::vector<int> unit_power_;
  std::unique_ptr<Scratch> scratch_;
};

// The Python prototype's raw-event name of a feature, for its InfluxDB
// schema: band_energy_LO_HI_<ch> becomes bandELO_HI_<ch>
// (band_energy_0_200_ax -> bandE0_200_ax); every other name (rms_ax,
// peak_freq_ax, ...) is already the prototype's and is returned unchanged.
std::string PrototypeFeatureName(std::string_view name);

// "0", "200", "2.5": a band edge as printed in feature names.
std::string FormatBandEdge(double hz);

}  // namespace mh::features

#endif  // MH_FEATURES_WINDOW_FEATURES_H_
