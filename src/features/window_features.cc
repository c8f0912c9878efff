#include "features/window_features.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <set>
#include <utility>

#include "core/strings.h"
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

// Appended per channel by FeatureSet::kFull, in output order.
constexpr const char* kFullFeatures[] = {
    "spectral_centroid", "spectral_spread",  "spectral_flatness",  "shape_factor",
    "impulse_factor",    "clearance_factor", "zero_crossing_rate", "velocity_rms"};

// ISO 20816 velocity band, limited by Nyquist.
constexpr double kVelocityLoHz = 10;
constexpr double kVelocityHiHz = 1000;

Status ValidateOptions(const FeatureOptions& o) {
  if (!(o.sample_rate_hz > 0) || !std::isfinite(o.sample_rate_hz)) {
    return Status::InvalidArgument("sample rate must be a positive finite number of hz, got " +
                                   FormatDouble(o.sample_rate_hz));
  }
  if (o.window_samples < 4) {
    return Status::InvalidArgument("window must be at least 4 samples, got " +
                                   std::to_string(o.window_samples));
  }
  if (o.channels.empty()) return Status::InvalidArgument("no channels given");
  std::set<std::string> seen;
  for (const std::string& c : o.channels) {
    if (c.empty()) return Status::InvalidArgument("empty channel name");
    if (!seen.insert(c).second) return Status::InvalidArgument("duplicate channel '" + c + "'");
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
  }
  return Status::OK();
}

}  // namespace

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
};

WindowFeatureExtractor::WindowFeatureExtractor(FeatureOptions options,
                                               std::unique_ptr<Scratch> scratch)
    : options_(std::move(options)), scratch_(std::move(scratch)) {}

WindowFeatureExtractor::~WindowFeatureExtractor() = default;

Result<std::unique_ptr<WindowFeatureExtractor>> WindowFeatureExtractor::Create(
    const FeatureOptions& options) {
  MH_RETURN_IF_ERROR(ValidateOptions(options));
  auto scratch = std::make_unique<Scratch>();
  const std::size_t n = options.window_samples;
  MH_ASSIGN_OR_RETURN(scratch->fft, RealFft::Create(n));
  scratch->spectrum.assign(n / 2 + 1, {0.0, 0.0});
  scratch->power.assign(n / 2 + 1, 0.0);
  for (const Band& b : options.bands) {
    scratch->band_bins.push_back(BandBins(b.lo_hz, b.hi_hz, n, options.sample_rate_hz));
  }
  std::unique_ptr<WindowFeatureExtractor> ex(
      new WindowFeatureExtractor(options, std::move(scratch)));

  std::vector<std::string> base(std::begin(kTimeFeatures), std::end(kTimeFeatures));
  for (const Band& b : options.bands) {
    const std::string edges = FormatBandEdge(b.lo_hz) + "_" + FormatBandEdge(b.hi_hz);
    base.push_back("band_energy_" + edges);
    base.push_back("band_rms_" + edges);
  }
  if (options.set == FeatureSet::kFull) {
    base.insert(base.end(), std::begin(kFullFeatures), std::end(kFullFeatures));
  }
  ex->per_channel_ = base.size();
  for (const std::string& c : options.channels) {
    for (const std::string& f : base) ex->names_.push_back(f + "_" + c);
  }
  return ex;
}

Status WindowFeatureExtractor::Compute(std::span<const std::span<const double>> channels,
                                       std::span<double> out) {
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
    const std::span<const double> x = channels[c];
    if (x.size() != n) {
      return Status::InvalidArgument("channel '" + options_.channels[c] + "': window has " +
                                     std::to_string(x.size()) + " samples, expected " +
                                     std::to_string(n));
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(x[i])) {
        return Status::InvalidArgument("channel '" + options_.channels[c] + "': sample " +
                                       std::to_string(i) + " is " + FormatDouble(x[i]));
      }
    }
  }
  for (std::size_t c = 0; c < channels.size(); ++c) {
    ComputeChannel(channels[c], out.subspan(c * per_channel_, per_channel_));
  }
  return Status::OK();
}

void WindowFeatureExtractor::ComputeChannel(std::span<const double> x, std::span<double> out) {
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
  if (options_.set != FeatureSet::kFull) return;
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

}  // namespace mh::features
