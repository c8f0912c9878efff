#include "features/shape.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>

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

namespace {

// Accumulates log(p) for positive normal doubles without a log per value:
// mantissas (in [1, 2)) are multiplied together and exponents summed, one
// log at the end. Relative error ~1e-16 per product, far below the 1e-6
// spectral tolerance.
class LogSum {
 public:
  void Add(double p) {
    const auto bits = std::bit_cast<std::uint64_t>(p);
    exponent_ += static_cast<std::int64_t>(bits >> 52) - 1023;
    product_ *= std::bit_cast<double>((bits & kMantissa) | kOne);
    if (++pending_ == 256) Renormalize();  // product_ < 2^256: no overflow
  }
  double Get() {
    Renormalize();
    return std::log(product_) + static_cast<double>(exponent_) * std::numbers::ln2;
  }

 private:
  static constexpr std::uint64_t kMantissa = 0x000fffffffffffffULL;
  static constexpr std::uint64_t kOne = 0x3ff0000000000000ULL;
  void Renormalize() {
    const auto bits = std::bit_cast<std::uint64_t>(product_);
    exponent_ += static_cast<std::int64_t>(bits >> 52) - 1023;
    product_ = std::bit_cast<double>((bits & kMantissa) | kOne);
    pending_ = 0;
  }
  double product_ = 1.0;
  std::int64_t exponent_ = 0;
  int pending_ = 0;
};

}  // namespace

SpectralShape ComputeSpectralShape(std::span<const double> power, std::size_t n,
                                   double sample_rate_hz) {
  MH_CHECK(n >= 2 && power.size() == n / 2 + 1);
  // f_k = k * df with df = BinFrequencyHz(1, ...): the same product as
  // BinFrequencyHz(k, ...), hoisted.
  const double df = BinFrequencyHz(1, n, sample_rate_hz);
  double total = 0;
  double weighted = 0;
  LogSum logs;
  double slow_log_sum = 0;  // subnormal powers
  bool any_zero = false;
  for (std::size_t k = 1; k < power.size(); ++k) {
    const double p = power[k];
    total += p;
    weighted += static_cast<double>(k) * df * p;
    if (p >= std::numeric_limits<double>::min()) {
      logs.Add(p);
    } else if (p > 0) {
      slow_log_sum += std::log(p);
    } else {
      any_zero = true;
    }
  }
  SpectralShape s;
  if (!(total > 0)) return s;
  s.centroid_hz = weighted / total;
  double var = 0;
  for (std::size_t k = 1; k < power.size(); ++k) {
    const double d = static_cast<double>(k) * df - s.centroid_hz;
    var += d * d * power[k];
  }
  s.spread_hz = std::sqrt(var / total);
  const double bins = static_cast<double>(power.size() - 1);
  const double log_sum = logs.Get() + slow_log_sum;
  s.flatness = any_zero ? 0.0 : std::exp(log_sum / bins) / (total / bins);
  return s;
}

}  // namespace mh::features
