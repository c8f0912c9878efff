#include "features/moments.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace mh::features {

namespace {

// Neumaier's compensated sum: error independent of N, unlike naive summation.
class CompensatedSum {
 public:
  void Add(double v) {
    const double t = sum_ + v;
    if (std::fabs(sum_) >= std::fabs(v)) {
      comp_ += (sum_ - t) + v;
    } else {
      comp_ += (v - t) + sum_;
    }
    sum_ = t;
  }
  double Get() const { return sum_ + comp_; }

 private:
  double sum_ = 0;
  double comp_ = 0;
};

}  // namespace

bool IsDegenerateVariance(double m2, double mean) {
  // numpy's finfo(float64).resolution, the threshold scipy uses.
  constexpr double kResolution = 1e-15;
  const double scaled = kResolution * mean;
  return m2 <= scaled * scaled;
}

TimeStats ComputeTimeStats(std::span<const double> x) {
  MH_CHECK(!x.empty());
  const double n = static_cast<double>(x.size());

  // Pass 1: sum, sum of squares, extremes.
  CompensatedSum sum;
  CompensatedSum sum_sq;
  double lo = x[0];
  double hi = x[0];
  for (double v : x) {
    sum.Add(v);
    sum_sq.Add(v * v);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  TimeStats s;
  s.mean = sum.Get() / n;
  s.rms = std::sqrt(sum_sq.Get() / n);
  s.peak = std::max(std::fabs(lo), std::fabs(hi));
  s.peak_to_peak = hi - lo;

  // Pass 2: central moments about the mean (no cancellation, unlike
  // E[x^2] - E[x]^2).
  CompensatedSum c2;
  CompensatedSum c3;
  CompensatedSum c4;
  for (double v : x) {
    const double d = v - s.mean;
    const double d2 = d * d;
    c2.Add(d2);
    c3.Add(d2 * d);
    c4.Add(d2 * d2);
  }
  s.m2 = c2.Get() / n;
  s.m3 = c3.Get() / n;
  s.m4 = c4.Get() / n;
  s.rms_ac = std::sqrt(s.m2);
  s.crest_factor = s.rms > 0 ? s.peak / s.rms : 0.0;
  if (IsDegenerateVariance(s.m2, s.mean)) {
    s.skewness = 0;
    s.kurtosis = 0;
  } else {
    s.skewness = s.m3 / std::pow(s.m2, 1.5);
    s.kurtosis = s.m4 / (s.m2 * s.m2);
  }
  return s;
}

}  // namespace mh::features
