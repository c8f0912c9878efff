#include "features/feature_stage.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "core/strings.h"

namespace mh::features {

const std::vector<Band> kDefaultBands = {{0, 200}, {200, 1000}, {1000, 5000}, {5000, 12800}};

Result<std::vector<Band>> ParseBands(std::string_view text, std::string_view option) {
  std::vector<Band> bands;
  if (TrimSpace(text).empty()) return bands;
  const std::string opt(option);
  for (const std::string& item : Split(std::string(text), ',')) {
    const std::string_view s = TrimSpace(item);
    const std::size_t dash = s.find('-', 1);
    if (dash == std::string_view::npos) {
      return Status::InvalidArgument(opt + ": '" + std::string(s) + "' is not LO-HI");
    }
    auto lo = ParseDouble(TrimSpace(s.substr(0, dash)));
    auto hi = ParseDouble(TrimSpace(s.substr(dash + 1)));
    if (!lo.ok() || !hi.ok()) {
      return Status::InvalidArgument(opt + ": '" + std::string(s) + "' is not LO-HI in hz");
    }
    bands.push_back({*lo, *hi});
  }
  return bands;
}

std::string FormatBands(const std::vector<Band>& bands) {
  std::string s;
  for (const Band& b : bands) {
    s += (s.empty() ? "" : ",") + FormatBandEdge(b.lo_hz) + "-" + FormatBandEdge(b.hi_hz);
  }
  return s;
}

Result<BearingGeometry> ParseBearing(std::string_view text, std::string_view option) {
  const std::string opt(option);
  const std::string t(TrimSpace(text));
  if (t.find(',') == std::string::npos) {
    auto g = LookupBearing(t);
    if (!g.ok()) {
      return Status::InvalidArgument(opt + ": unknown bearing '" + t +
                                     "' (expected 6205, za2115, femto or Z,d,D,ANGLE)");
    }
    return *g;
  }
  const std::vector<std::string> parts = Split(t, ',');
  if (parts.size() != 4) return Status::InvalidArgument(opt + ": '" + t + "' is not Z,d,D,ANGLE");
  auto z = ParseInt(TrimSpace(parts[0]));
  auto d = ParseDouble(TrimSpace(parts[1]));
  auto pitch = ParseDouble(TrimSpace(parts[2]));
  auto angle = ParseDouble(TrimSpace(parts[3]));
  if (!z.ok() || !d.ok() || !pitch.ok() || !angle.ok() || *z < 1 || *z > 1000) {
    return Status::InvalidArgument(opt + ": '" + t + "' is not Z,d,D,ANGLE");
  }
  return BearingGeometry{static_cast<int>(*z), *d, *pitch, *angle};
}

Result<std::vector<Band>> BandsForRate(const FeatureStageOptions& o, double fs_hz) {
  const double nyquist = fs_hz / 2;
  if (!o.bands.empty()) {
    for (const Band& b : o.bands) {
      if (b.hi_hz > nyquist) {
        return Status::InvalidArgument(
            "--bands: band " + FormatBandEdge(b.lo_hz) + "-" + FormatBandEdge(b.hi_hz) +
            " hz is above the nyquist frequency " + FormatDouble(nyquist) + " hz of fs " +
            FormatDouble(fs_hz) + " hz (give bands below fs/2, or omit --bands for the defaults)");
      }
    }
    return o.bands;
  }
  const double bin = fs_hz / static_cast<double>(std::max<std::size_t>(o.window_samples, 1));
  std::vector<Band> out;
  for (Band b : kDefaultBands) {
    b.hi_hz = std::min(b.hi_hz, nyquist);
    // At least one FFT bin k * bin with lo <= k * bin <= hi.
    if (b.lo_hz >= b.hi_hz || std::floor(b.hi_hz / bin) * bin < b.lo_hz) continue;
    out.push_back(b);
  }
  return out;
}

Result<FeatureOptions> MakeFeatureOptions(const FeatureStageOptions& o, const StreamShape& shape) {
  FeatureOptions f;
  f.sample_rate_hz = shape.fs_hz;
  f.window_samples = o.window_samples;
  f.channels = shape.channels;
  f.magnitude = o.magnitude && shape.channels.size() >= 2 && shape.channels.size() <= 3;
  f.set = o.set;
  f.unit = o.unit;
  MH_ASSIGN_OR_RETURN(f.bands, BandsForRate(o, shape.fs_hz));
  if (shape.shaft_rpm > 0 && std::isfinite(shape.shaft_rpm)) {
    // Orders up to 3x and bearing lines up to 2 x BPFI must lie below fs/2.
    const double fr = shape.shaft_rpm / 60;
    if (3 * fr <= shape.fs_hz / 2) {
      f.shaft_rpm = shape.shaft_rpm;
      if (shape.bearing.has_value()) {
        auto freqs = ComputeBearingFrequencies(*shape.bearing, fr);
        if (freqs.ok() && 2 * freqs->bpfi_hz <= shape.fs_hz / 2) f.bearing = shape.bearing;
      }
    }
  }
  MH_RETURN_IF_ERROR(ValidateFeatureOptions(f));
  return f;
}

double MaxShaftRpm(double fs_hz, const std::optional<BearingGeometry>& bearing) {
  if (!(fs_hz > 0) || !std::isfinite(fs_hz)) return 0;
  const double nyquist = fs_hz / 2;
  double max_hz = nyquist / 3;  // order 3x
  if (bearing.has_value()) {
    // Defect frequencies are proportional to the shaft frequency.
    auto per_hz = ComputeBearingFrequencies(*bearing, 1.0);
    if (!per_hz.ok() || !(per_hz->bpfi_hz > 0)) return 0;
    max_hz = std::min(max_hz, nyquist / (2 * per_hz->bpfi_hz));
  }
  return max_hz * 60 * (1 - 1e-9);
}

std::vector<std::string> DefaultModelFeatures(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const std::string& name : names) {
    auto starts = [&](std::string_view p) { return name.compare(0, p.size(), p) == 0; };
    if (starts("rms_") || starts("peak_to_peak_") || starts("band_rms_") ||
        starts("crest_factor_") || starts("kurtosis_")) {
      out.push_back("log_" + name);
    } else if (starts("skewness_")) {
      out.push_back(name);
    }
  }
  return out;
}

Result<ModelFeatureSource> ResolveModelFeature(std::string_view model_feature,
                                               const std::vector<std::string>& names) {
  auto find = [&](std::string_view n) -> std::ptrdiff_t {
    auto it = std::find(names.begin(), names.end(), n);
    return it == names.end() ? -1 : it - names.begin();
  };
  std::ptrdiff_t i = find(model_feature);
  if (i >= 0) return ModelFeatureSource{static_cast<std::size_t>(i), false};
  constexpr std::string_view kLog = "log_";
  if (model_feature.substr(0, kLog.size()) == kLog) {
    i = find(model_feature.substr(kLog.size()));
    if (i >= 0) return ModelFeatureSource{static_cast<std::size_t>(i), true};
  }
  return Status::NotFound(std::string(model_feature));
}

double ModelFeatureValue(const ModelFeatureSource& source, std::span<const double> features) {
  const double v = features[source.index];
  return source.log ? std::log(std::max(v, DBL_MIN)) : v;
}

std::string OutputFeatureName(const FeatureStageOptions& o, std::string_view name) {
  return o.prototype_names ? PrototypeFeatureName(name) : std::string(name);
}

}  // namespace mh::features
