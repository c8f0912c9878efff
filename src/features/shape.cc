#include "features/shape.h"

#include <cmath>

#include "core/check.h"
#include "features/spectrum.h"

namespace mh::features {

ShapeStats ComputeShapeStats(std::span<const double> x, double mean, double rms, double peak) {
  MH_CHECK(x.size() >= 2);
  double sum_abs = 0;
  double sum_sqrt = 0;
  std::size_t crossings = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double a = std::fabs(x[i]);
    sum_abs += a;
    sum_sqrt += std::sqrt(a);
    if (i > 0 && (x[i - 1] - mean) * (x[i] - mean) < 0) ++crossings;
  }
  const double n = static_cast<double>(x.size());
  const double mean_abs = sum_abs / n;
  const double mean_sqrt = sum_sqrt / n;
  ShapeStats s;
  if (mean_abs > 0) {
    s.shape_factor = rms / mean_abs;
    s.impulse_factor = peak / mean_abs;
  }
  if (mean_sqrt > 0) s.clearance_factor = peak / (mean_sqrt * mean_sqrt);
  s.zero_crossing_rate = static_cast<double>(crossings) / (n - 1);
  return s;
}

SpectralShape ComputeSpectralShape(std::span<const double> power, std::size_t n,
                                   double sample_rate_hz) {
  MH_CHECK(n >= 2 && power.size() == n / 2 + 1);
  double total = 0;
  double weighted = 0;
  double log_sum = 0;
  bool any_zero = false;
  for (std::size_t k = 1; k < power.size(); ++k) {
    total += power[k];
    weighted += BinFrequencyHz(k, n, sample_rate_hz) * power[k];
    if (power[k] > 0) {
      log_sum += std::log(power[k]);
    } else {
      any_zero = true;
    }
  }
  SpectralShape s;
  if (!(total > 0)) return s;
  s.centroid_hz = weighted / total;
  double var = 0;
  for (std::size_t k = 1; k < power.size(); ++k) {
    const double d = BinFrequencyHz(k, n, sample_rate_hz) - s.centroid_hz;
    var += d * d * power[k];
  }
  s.spread_hz = std::sqrt(var / total);
  const double bins = static_cast<double>(power.size() - 1);
  s.flatness = any_zero ? 0.0 : std::exp(log_sum / bins) / (total / bins);
  return s;
}

}  // namespace mh::features
