#include "features/window_features.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <complex>
#include <cstdint>
#include <set>
#include <utility>

#include "core/check.h"
#include "core/strings.h"
#include "features/envelope.h"
#include "features/moments.h"
#include "features/real_fft.h"
#include "features/shape.h"
#include "features/spectrum.h"

namespace mh::features {

namespace {

// Per-channel feature names before the channel suffix, in output order.
constexpr const char* kTimeFeatures[] = {"mean",         "rms",          "rms_ac",   "peak",
                                         "peak_to_peak", "crest_factor", "skewness", "kurtosis",
                                         "peak_freq",    "peak_amp"};

// Power of the signal unit of each of kTimeFeatures (mean .. peak_amp): how
// the value scales when the samples are scaled.
constexpr int kTimeUnitPowers[] = {1, 1, 1, 1, 1, 0, 0, 0, 0, 1};

// Appended per channel by FeatureSet::kFull, in output order.
constexpr std::string_view kFullFeatures[] = {
    "spectral_centroid", "spectral_spread",  "spectral_flatness",  "shape_factor",
    "impulse_factor",    "clearance_factor", "zero_crossing_rate", kVelocityRmsFeature};
constexpr int kFullUnitPowers[] = {0, 0, 0, 0, 0, 0, 0, 1};

// Appended per channel when shaft_rpm > 0: amplitude at h x shaft frequency.
constexpr const char* kOrderFeatures[] = {"order1x", "order2x", "order3x"};

// Appended per channel when a bearing is given: kEnvelopeFeatures (header).

// ISO 20816 velocity band, limited by Nyquist.
constexpr double kVelocityLoHz = 10;
constexpr double kVelocityHiHz = 1000;

Status ValidateOptionsImpl(const FeatureOptions& o) {
  if (!(o.sample_rate_hz > 0) || !std::isfinite(o.sample_rate_hz)) {
    return Status::InvalidArgument("sample rate must be a positive finite number of hz, got " +
                                   FormatDouble(o.sample_rate_hz));
  }
  if (o.window_samples < 4) {
    return Status::InvalidArgument("window must be at least 4 samples, got " +
                                   std::to_string(o.window_samples));
  }
  if (o.window_samples > kMaxWindowSamples) {
    return Status::InvalidArgument("window of " + std::to_string(o.window_samples) +
                                   " samples is above the maximum of " +
                                   std::to_string(kMaxWindowSamples));
  }
  if (o.channels.empty()) return Status::InvalidArgument("no channels given");
  std::set<std::string> seen;
  for (const std::string& c : o.channels) {
    if (c.empty()) return Status::InvalidArgument("empty channel name");
    if (!seen.insert(c).second) return Status::InvalidArgument("duplicate channel '" + c + "'");
  }
  if (o.magnitude) {
    if (o.channels.size() < 2) {
      return Status::InvalidArgument("the vector magnitude needs at least 2 channels, got " +
                                     std::to_string(o.channels.size()));
    }
    if (seen.count(std::string(kMagnitudeChannel)) != 0) {
      return Status::InvalidArgument(
          "channel 'mag' clashes with the vector magnitude channel (rename it or turn the "
          "magnitude off)");
    }
  }
  const double nyquist = o.sample_rate_hz / 2;
  for (std::size_t i = 0; i < o.bands.size(); ++i) {
    const Band& b = o.bands[i];
    const std::string where = "band " + std::to_string(i + 1) + " (" + FormatDouble(b.lo_hz) + "-" +
                              FormatDouble(b.hi_hz) + " hz): ";
    if (!std::isfinite(b.lo_hz) || !std::isfinite(b.hi_hz)) {
      return Status::InvalidArgument(where + "edges must be finite");
    }
    if (b.lo_hz < 0) return Status::InvalidArgument(where + "lower edge is negative");
    if (b.lo_hz > b.hi_hz) return Status::InvalidArgument(where + "lower edge above upper edge");
    if (b.hi_hz > nyquist) {
      return Status::InvalidArgument(where + "upper edge above nyquist " + FormatDouble(nyquist) +
                                     " hz");
    }
    const BinRange bins = BandBins(b.lo_hz, b.hi_hz, o.window_samples, o.sample_rate_hz);
    if (bins.first >= bins.last) {
      const double width = o.sample_rate_hz / static_cast<double>(o.window_samples);
      return Status::InvalidArgument(where + "holds no fft bin (bin width " + FormatDouble(width) +
                                     " hz = fs " + FormatDouble(o.sample_rate_hz) +
                                     " hz / window " + std::to_string(o.window_samples) + ")");
    }
  }
  if (!std::isfinite(o.shaft_rpm) || o.shaft_rpm < 0) {
    return Status::InvalidArgument("shaft speed must be a finite number of rpm >= 0, got " +
                                   FormatDouble(o.shaft_rpm));
  }
  const double shaft_hz = o.shaft_rpm / 60;
  if (shaft_hz > 0 && 3 * shaft_hz > nyquist) {
    return Status::InvalidArgument("shaft speed " + FormatDouble(o.shaft_rpm) +
                                   " rpm: order 3x above nyquist " + FormatDouble(nyquist) + " hz");
  }
  if (o.bearing.has_value()) {
    if (!(shaft_hz > 0)) return Status::InvalidArgument("a bearing needs the shaft speed (rpm)");
    auto f = ComputeBearingFrequencies(*o.bearing, shaft_hz);
    if (!f.ok()) return f.status();
    const double top = 2 * std::max({f->bpfo_hz, f->bpfi_hz, f->bsf_hz, f->ftf_hz});
    if (top > nyquist) {
      return Status::InvalidArgument("bearing: 2x defect frequency " + FormatDouble(top) +
                                     " hz above nyquist " + FormatDouble(nyquist) + " hz");
    }
    // The envelope band's rules live with the analyzer: build one to check them.
    const Band band = o.envelope_band.value_or(DefaultEnvelopeBand(o.sample_rate_hz));
    MH_RETURN_IF_ERROR(EnvelopeAnalyzer::Create(o.window_samples, o.sample_rate_hz, band).status());
  }
  return Status::OK();
}

// True when no sample is NaN or infinite: a branch-free scan of the exponent
// bits that the compiler vectorises.
bool AllFinite(std::span<const double> x) {
  constexpr std::uint64_t kExponent = 0x7ff0000000000000ULL;
  std::uint64_t bad = 0;
  for (const double v : x) {
    bad |= static_cast<std::uint64_t>((std::bit_cast<std::uint64_t>(v) & kExponent) == kExponent);
  }
  return bad == 0;
}

// max |x| as its bit pattern with the sign cleared (for doubles >= 0 the
// order of the bits as int64 is the order of the values): at least
// kExponentBits when some sample is NaN or infinite. One branch-free pass
// the compiler vectorises; it serves as the finiteness check and as the peak
// that decides the scaling.
constexpr std::int64_t kExponentBits = 0x7ff0000000000000LL;
std::int64_t MaxAbsBits(std::span<const double> x) {
  constexpr std::int64_t kNoSign = 0x7fffffffffffffffLL;
  std::int64_t m = 0;
  for (const double v : x) {
    const std::int64_t b = std::bit_cast<std::int64_t>(v) & kNoSign;
    m = b > m ? b : m;
  }
  return m;
}

// max |x| of finite samples.
double MaxAbs(std::span<const double> x) { return std::bit_cast<double>(MaxAbsBits(x)); }

// Windows whose max |x| lies in [2^kMinSafeExponent, 2^kMaxSafeExponent]
// are used as they are: for N <= kMaxWindowSamples (2^22) the fourth central
// moment stays below 2^(4 * 201 + 22) and every power spectrum sum far below
// the float64 maximum, and fourth powers of the largest deviations stay far
// above the subnormal range. Others are scaled by 2^-ilogb(max |x|).
constexpr int kMinSafeExponent = -200;
constexpr int kMaxSafeExponent = 200;

// The exponent to scale a window by (0 = leave it as it is).
int ScaleExponent(double max_abs) {
  if (max_abs == 0) return 0;
  const int e = std::ilogb(max_abs);
  return e < kMinSafeExponent || e > kMaxSafeExponent ? e : 0;
}

// m_n = sqrt(x_0,n^2 + x_1,n^2 + ...), summed in channel order: the same
// operations, in the same order, as numpy's np.sqrt(ax**2 + ay**2 + az**2).
void VectorMagnitude(std::span<const std::span<const double>> channels, std::span<double> m) {
  const std::span<const double> first = channels[0];
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = first[i] * first[i];
  for (std::size_t c = 1; c < channels.size(); ++c) {
    const std::span<const double> x = channels[c];
    for (std::size_t i = 0; i < m.size(); ++i) m[i] += x[i] * x[i];
  }
  for (double& v : m) v = std::sqrt(v);
}

// The same over the channels scaled by 2^-exponent (exact: powers of two).
void ScaledVectorMagnitude(std::span<const std::span<const double>> channels, int exponent,
                           std::span<double> m) {
  for (double& v : m) v = 0;
  for (const std::span<const double> x : channels) {
    for (std::size_t i = 0; i < m.size(); ++i) {
      const double v = std::ldexp(x[i], -exponent);
      m[i] += v * v;
    }
  }
  for (double& v : m) v = std::sqrt(v);
}

}  // namespace

Status ValidateFeatureOptions(const FeatureOptions& options) {
  return ValidateOptionsImpl(options);
}

std::string PrototypeFeatureName(std::string_view name) {
  constexpr std::string_view kPrefix = "band_energy_";
  if (name.substr(0, kPrefix.size()) == kPrefix) {
    return "bandE" + std::string(name.substr(kPrefix.size()));
  }
  return std::string(name);
}

std::string FormatBandEdge(double hz) {
  if (std::isfinite(hz) && hz == std::floor(hz) && std::fabs(hz) < 1e15) {
    return std::to_string(static_cast<long long>(hz));
  }
  return FormatDouble(hz);
}

struct WindowFeatureExtractor::Scratch {
  std::unique_ptr<RealFft> fft;
  std::vector<std::complex<double>> spectrum;
  std::vector<double> power;
  std::vector<BinRange> band_bins;
  std::vector<double> order_hz;                // 1x, 2x, 3x shaft frequency (or empty)
  std::vector<double> defect_hz;               // bpfo bpfi bsf ftf, then 2x each (or empty)
  std::unique_ptr<EnvelopeAnalyzer> envelope;  // when defect_hz is not empty
  std::vector<double> magnitude;               // N samples when options.magnitude
  std::vector<double> widened;                 // channels x N: float32 input as float64
  std::vector<std::span<const double>> widened_channels;  // views into `widened`
  std::vector<double> scaled;  // N samples: a channel scaled by a power of two
  std::vector<double> peaks;   // per channel: max |x| of the window
};

WindowFeatureExtractor::WindowFeatureExtractor(FeatureOptions options,
                                               std::unique_ptr<Scratch> scratch)
    : options_(std::move(options)), scratch_(std::move(scratch)) {}

WindowFeatureExtractor::~WindowFeatureExtractor() = default;

Result<std::unique_ptr<WindowFeatureExtractor>> WindowFeatureExtractor::Create(
    const FeatureOptions& options) {
  MH_RETURN_IF_ERROR(ValidateFeatureOptions(options));
  auto scratch = std::make_unique<Scratch>();
  const std::size_t n = options.window_samples;
  MH_ASSIGN_OR_RETURN(scratch->fft, RealFft::Create(n));
  scratch->spectrum.assign(n / 2 + 1, {0.0, 0.0});
  scratch->power.assign(n / 2 + 1, 0.0);
  if (options.magnitude) scratch->magnitude.assign(n, 0.0);
  scratch->scaled.assign(n, 0.0);
  scratch->peaks.assign(options.channels.size(), 0.0);
  scratch->widened.assign(options.channels.size() * n, 0.0);
  for (std::size_t c = 0; c < options.channels.size(); ++c) {
    scratch->widened_channels.emplace_back(scratch->widened.data() + c * n, n);
  }
  for (const Band& b : options.bands) {
    scratch->band_bins.push_back(BandBins(b.lo_hz, b.hi_hz, n, options.sample_rate_hz));
  }
  const double shaft_hz = options.shaft_rpm / 60;
  if (shaft_hz > 0) scratch->order_hz = {shaft_hz, 2 * shaft_hz, 3 * shaft_hz};
  if (options.bearing.has_value()) {
    MH_ASSIGN_OR_RETURN(const BearingFrequencies f,
                        ComputeBearingFrequencies(*options.bearing, shaft_hz));
    scratch->defect_hz = {f.bpfo_hz, f.bpfi_hz, f.bsf_hz, f.ftf_hz};
    for (std::size_t i = 0; i < 4; ++i) scratch->defect_hz.push_back(2 * scratch->defect_hz[i]);
    const Band band = options.envelope_band.value_or(DefaultEnvelopeBand(options.sample_rate_hz));
    MH_ASSIGN_OR_RETURN(scratch->envelope,
                        EnvelopeAnalyzer::Create(n, options.sample_rate_hz, band));
  }
  std::unique_ptr<WindowFeatureExtractor> ex(
      new WindowFeatureExtractor(options, std::move(scratch)));

  std::vector<std::string> base(std::begin(kTimeFeatures), std::end(kTimeFeatures));
  std::vector<int>& power = ex->unit_power_;
  power.assign(std::begin(kTimeUnitPowers), std::end(kTimeUnitPowers));
  for (const Band& b : options.bands) {
    const std::string edges = FormatBandEdge(b.lo_hz) + "_" + FormatBandEdge(b.hi_hz);
    base.push_back("band_energy_" + edges);
    base.push_back("band_rms_" + edges);
    power.insert(power.end(), {2, 1});
  }
  if (options.set == FeatureSet::kFull) {
    base.insert(base.end(), std::begin(kFullFeatures), std::end(kFullFeatures));
    power.insert(power.end(), std::begin(kFullUnitPowers), std::end(kFullUnitPowers));
  }
  if (shaft_hz > 0) {
    base.insert(base.end(), std::begin(kOrderFeatures), std::end(kOrderFeatures));
    power.insert(power.end(), std::size(kOrderFeatures), 1);
  }
  if (options.bearing.has_value()) {
    base.insert(base.end(), std::begin(kEnvelopeFeatures), std::end(kEnvelopeFeatures));
    power.insert(power.end(), std::size(kEnvelopeFeatures), 1);
  }
  MH_CHECK(power.size() == base.size());
  ex->per_channel_ = base.size();
  ex->output_channels_ = options.channels;
  if (options.magnitude) ex->output_channels_.emplace_back(kMagnitudeChannel);
  for (const std::string& c : ex->output_channels_) {
    for (const std::string& f : base) ex->names_.push_back(f + "_" + c);
  }
  return ex;
}

Status WindowFeatureExtractor::SetShaftRpm(double shaft_rpm) {
  if (!(options_.shaft_rpm > 0)) {
    return Status::InvalidArgument("no order or bearing features to set a shaft speed for");
  }
  if (!(shaft_rpm > 0) || !std::isfinite(shaft_rpm)) {
    return Status::InvalidArgument("shaft speed must be a finite number of rpm > 0, got " +
                                   FormatDouble(shaft_rpm));
  }
  const double shaft_hz = shaft_rpm / 60;
  const double nyquist = options_.sample_rate_hz / 2;
  if (3 * shaft_hz > nyquist) {
    return Status::InvalidArgument("shaft speed " + FormatDouble(shaft_rpm) +
                                   " rpm: order 3x above nyquist " + FormatDouble(nyquist) + " hz");
  }
  Scratch& s = *scratch_;
  if (options_.bearing.has_value()) {
    MH_ASSIGN_OR_RETURN(const BearingFrequencies f,
                        ComputeBearingFrequencies(*options_.bearing, shaft_hz));
    if (2 * f.bpfi_hz > nyquist) {
      return Status::InvalidArgument("shaft speed " + FormatDouble(shaft_rpm) +
                                     " rpm: 2 x BPFI above nyquist " + FormatDouble(nyquist) +
                                     " hz");
    }
    const double defect[] = {f.bpfo_hz, f.bpfi_hz, f.bsf_hz, f.ftf_hz};
    for (std::size_t i = 0; i < 4; ++i) {
      s.defect_hz[i] = defect[i];
      s.defect_hz[4 + i] = 2 * defect[i];
    }
  }
  for (std::size_t h = 0; h < s.order_hz.size(); ++h) {
    s.order_hz[h] = static_cast<double>(h + 1) * shaft_hz;
  }
  options_.shaft_rpm = shaft_rpm;
  return Status::OK();
}

template <typename T>
Status WindowFeatureExtractor::CheckShapes(std::span<const std::span<const T>> channels,
                                           std::span<double> out) const {
  const std::size_t n = options_.window_samples;
  if (channels.size() != options_.channels.size()) {
    return Status::InvalidArgument("expected " + std::to_string(options_.channels.size()) +
                                   " channels, got " + std::to_string(channels.size()));
  }
  if (out.size() != names_.size()) {
    return Status::InvalidArgument("output has " + std::to_string(out.size()) +
                                   " slots, expected " + std::to_string(names_.size()));
  }
  for (std::size_t c = 0; c < channels.size(); ++c) {
    if (channels[c].size() != n) {
      return Status::InvalidArgument("channel '" + options_.channels[c] + "': window has " +
                                     std::to_string(channels[c].size()) + " samples, expected " +
                                     std::to_string(n));
    }
  }
  return Status::OK();
}

Status WindowFeatureExtractor::Compute(std::span<const std::span<const double>> channels,
                                       std::span<double> out) {
  MH_RETURN_IF_ERROR(CheckShapes(channels, out));
  const std::size_t n = options_.window_samples;
  std::span<double> peaks = scratch_->peaks;
  for (std::size_t c = 0; c < channels.size(); ++c) {
    const std::span<const double> x = channels[c];
    const std::int64_t bits = MaxAbsBits(x);
    if (bits >= kExponentBits) {
      for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(x[i])) {
          return Status::InvalidArgument("channel '" + options_.channels[c] + "': sample " +
                                         std::to_string(i) + " is " + FormatDouble(x[i]));
        }
      }
    }
    peaks[c] = std::bit_cast<double>(bits);
  }
  // Each channel is scaled on its own; the magnitude by the exponent of the
  // largest sample of all channels (when outside the safe range), so that
  // its squares neither overflow nor underflow.
  double largest = 0;
  for (std::size_t c = 0; c < channels.size(); ++c) {
    const double peak = peaks[c];
    largest = std::max(largest, peak);
    const int e = ScaleExponent(peak);
    std::span<const double> x = channels[c];
    if (e != 0) {
      double* dst = scratch_->scaled.data();
      for (std::size_t i = 0; i < n; ++i) dst[i] = std::ldexp(x[i], -e);
      x = scratch_->scaled;
    }
    MH_RETURN_IF_ERROR(
        ComputeChannel(x, e, options_.channels[c], out.subspan(c * per_channel_, per_channel_)));
  }
  if (options_.magnitude) {
    const std::span<double> m = scratch_->magnitude;
    const int e = ScaleExponent(largest);
    if (e != 0) {
      ScaledVectorMagnitude(channels, e, m);
    } else {
      VectorMagnitude(channels, m);
    }
    if (!AllFinite(m)) {
      for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(m[i])) {
          return Status::InvalidArgument("channel 'mag': sample " + std::to_string(i) + " is " +
                                         FormatDouble(m[i]) + " (the vector magnitude overflows)");
        }
      }
    }
    const std::span<const double> x = m;
    MH_RETURN_IF_ERROR(ComputeChannel(x, e, kMagnitudeChannel,
                                      out.subspan(channels.size() * per_channel_, per_channel_)));
  }
  return Status::OK();
}

Status WindowFeatureExtractor::Compute(std::span<const std::span<const float>> channels,
                                       std::span<double> out) {
  MH_RETURN_IF_ERROR(CheckShapes(channels, out));
  const std::size_t n = options_.window_samples;
  for (std::size_t c = 0; c < channels.size(); ++c) {
    const std::span<const float> x = channels[c];
    double* dst = scratch_->widened.data() + c * n;
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<double>(x[i]);
  }
  return Compute(std::span<const std::span<const double>>(scratch_->widened_channels), out);
}

Status WindowFeatureExtractor::ComputeChannel(std::span<const double> x, int exponent,
                                              std::string_view channel, std::span<double> out) {
  const std::size_t n = options_.window_samples;
  Scratch& s = *scratch_;
  const TimeStats t = ComputeTimeStats(x);
  s.fft->Forward(x, s.spectrum);
  PowerSpectrum(s.spectrum, s.power);
  const std::size_t peak_bin = PeakBinExcludingDc(s.power);

  std::size_t i = 0;
  out[i++] = t.mean;
  out[i++] = t.rms;
  out[i++] = t.rms_ac;
  out[i++] = t.peak;
  out[i++] = t.peak_to_peak;
  out[i++] = t.crest_factor;
  out[i++] = t.skewness;
  out[i++] = t.kurtosis;
  // A constant window has no spectral peak, only rounding noise.
  const bool flat = IsDegenerateVariance(t.m2, t.mean);
  out[i++] = flat ? 0.0 : BinFrequencyHz(peak_bin, n, options_.sample_rate_hz);
  out[i++] = flat ? 0.0 : SingleSidedAmplitude(s.power[peak_bin], peak_bin, n);
  for (const BinRange& r : s.band_bins) {
    out[i++] = BandEnergy(s.power, r);
    out[i++] = BandRms(s.power, r, n);
  }
  if (options_.set == FeatureSet::kFull) {
    const SpectralShape spec = ComputeSpectralShape(s.power, n, options_.sample_rate_hz);
    const ShapeStats shape = ComputeShapeStats(x, t.mean, t.rms, t.peak);
    out[i++] = spec.centroid_hz;
    out[i++] = spec.spread_hz;
    out[i++] = spec.flatness;
    out[i++] = shape.shape_factor;
    out[i++] = shape.impulse_factor;
    out[i++] = shape.clearance_factor;
    out[i++] = shape.zero_crossing_rate;
    out[i++] = VelocityRmsMmPerS(s.power, n, options_.sample_rate_hz, options_.unit, kVelocityLoHz,
                                 std::min(kVelocityHiHz, options_.sample_rate_hz / 2));
  }
  for (double hz : s.order_hz) out[i++] = AmplitudeNear(s.power, hz, n, options_.sample_rate_hz);
  if (s.envelope != nullptr) {
    s.envelope->Compute(s.spectrum);
    for (double hz : s.defect_hz) out[i++] = s.envelope->AmplitudeAt(hz);
  }
  if (exponent != 0) {
    for (std::size_t k = 0; k < out.size(); ++k) {
      if (unit_power_[k] != 0) out[k] = std::ldexp(out[k], unit_power_[k] * exponent);
    }
  }
  if (!AllFinite(out)) {
    for (std::size_t k = 0; k < out.size(); ++k) {
      if (std::isfinite(out[k])) continue;
      // names_[k] is "<feature>_<first output channel>".
      const std::string& name = names_[k];
      return Status::InvalidArgument("channel '" + std::string(channel) + "': " +
                                     name.substr(0, name.size() - output_channels_[0].size() - 1) +
                                     " is beyond the float64 range (max |sample| " +
                                     FormatDouble(std::ldexp(MaxAbs(x), exponent)) + ")");
    }
  }
  return Status::OK();
}

}  // namespace mh::features
