#include "features/moments.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace mh::features {

namespace {

// Sums use kLanes independent accumulators (lane i takes samples i, i +
// kLanes, ...), combined pairwise at the end: the compiler keeps them in
// vector registers, and the rounding error stays near that of numpy's
// pairwise summation (far below the 1e-9 the tests require).
constexpr std::size_t kLanes = 4;

double Combine(const double (&lanes)[kLanes]) {
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

}  // namespace

bool IsDegenerateVariance(double m2, double mean) {
  // numpy's finfo(float64).resolution, the threshold scipy uses.
  constexpr double kResolution = 1e-15;
  const double scaled = kResolution * mean;
  return m2 <= scaled * scaled;
}

// Cloned for AVX2 (four lanes in one register) and dispatched at load time;
// "avx2" does not enable FMA, so every clone rounds exactly as the default.
// Not under ThreadSanitizer: the clone's IFUNC resolver runs before TSan's
// runtime is set up and the test binaries crash at load.
#if defined(__SANITIZE_THREAD__)
#define MH_TIME_STATS_CLONES
#else
#define MH_TIME_STATS_CLONES __attribute__((target_clones("avx2", "default")))
#endif
MH_TIME_STATS_CLONES TimeStats ComputeTimeStats(std::span<const double> x) {
  MH_CHECK(!x.empty());
  const std::size_t size = x.size();
  const double n = static_cast<double>(size);
  const double* p = x.data();
  const std::size_t body = size - size % kLanes;

  // Pass 1: sum, sum of squares, extremes.
  double sum[kLanes] = {0, 0, 0, 0};
  double sum_sq[kLanes] = {0, 0, 0, 0};
  double lo[kLanes] = {p[0], p[0], p[0], p[0]};
  double hi[kLanes] = {p[0], p[0], p[0], p[0]};
  for (std::size_t i = 0; i < body; i += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) {
      const double v = p[i + l];
      sum[l] += v;
      sum_sq[l] += v * v;
      lo[l] = v < lo[l] ? v : lo[l];
      hi[l] = v > hi[l] ? v : hi[l];
    }
  }
  for (std::size_t i = body; i < size; ++i) {
    sum[0] += p[i];
    sum_sq[0] += p[i] * p[i];
    lo[0] = std::min(lo[0], p[i]);
    hi[0] = std::max(hi[0], p[i]);
  }
  const double min = std::min({lo[0], lo[1], lo[2], lo[3]});
  const double max = std::max({hi[0], hi[1], hi[2], hi[3]});
  TimeStats s;
  s.mean = Combine(sum) / n;
  s.rms = std::sqrt(Combine(sum_sq) / n);
  s.peak = std::max(std::fabs(min), std::fabs(max));
  s.peak_to_peak = max - min;

  // Pass 2: central moments about the mean (no cancellation, unlike
  // E[x^2] - E[x]^2).
  const double mean = s.mean;
  double c2[kLanes] = {0, 0, 0, 0};
  double c3[kLanes] = {0, 0, 0, 0};
  double c4[kLanes] = {0, 0, 0, 0};
  for (std::size_t i = 0; i < body; i += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) {
      const double d = p[i + l] - mean;
      const double d2 = d * d;
      c2[l] += d2;
      c3[l] += d2 * d;
      c4[l] += d2 * d2;
    }
  }
  for (std::size_t i = body; i < size; ++i) {
    const double d = p[i] - mean;
    const double d2 = d * d;
    c2[0] += d2;
    c3[0] += d2 * d;
    c4[0] += d2 * d2;
  }
  s.m2 = Combine(c2) / n;
  s.m3 = Combine(c3) / n;
  s.m4 = Combine(c4) / n;
  s.rms_ac = std::sqrt(s.m2);
  s.crest_factor = s.rms > 0 ? s.peak / s.rms : 0.0;
  if (IsDegenerateVariance(s.m2, s.mean)) {
    s.skewness = 0;
    s.kurtosis = 0;
  } else {
    s.skewness = s.m3 / (s.m2 * std::sqrt(s.m2));
    s.kurtosis = s.m4 / (s.m2 * s.m2);
  }
  return s;
}

}  // namespace mh::features
