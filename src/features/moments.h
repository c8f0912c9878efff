// Time-domain statistics of one window of samples: mean, RMS, peak values
// and the biased (population) central moments, computed in float64 in two
// passes (sums and extremes, then central moments about the mean) with
// multi-lane accumulators, so that results agree with numpy/scipy to ~1e-12
// relative.
//
// Thread safety: pure functions, safe from any thread.
#ifndef MH_FEATURES_MOMENTS_H_
#define MH_FEATURES_MOMENTS_H_

#include <span>

namespace mh::features {

// Statistics of one window, in the units of the samples (skewness, kurtosis
// and crest_factor are dimensionless).
struct TimeStats {
  double mean = 0;          // sum(x) / N
  double rms = 0;           // sqrt(mean(x^2)), mean not removed
  double rms_ac = 0;        // sqrt(m2): population standard deviation
  double peak = 0;          // max |x|
  double peak_to_peak = 0;  // max(x) - min(x)
  double crest_factor = 0;  // peak / rms; 0 when rms == 0
  double skewness = 0;      // m3 / m2^1.5 (scipy.stats.skew, bias=True); 0 if constant
  double kurtosis = 0;      // m4 / m2^2 (Pearson, normal = 3); 0 if constant
  double m2 = 0;            // mean((x - mean)^2)
  double m3 = 0;            // mean((x - mean)^3)
  double m4 = 0;            // mean((x - mean)^4)
};

// True when scipy.stats.skew/kurtosis treat the window as constant:
// m2 <= (1e-15 * mean)^2 (numpy float64 "resolution"). Then skewness and kurtosis are
// defined as 0 here (scipy returns NaN), so features stay finite.
bool IsDegenerateVariance(double m2, double mean);

// Statistics of `x`. Precondition (checked): x is non-empty. Every sample
// must be finite; the caller validates (NaN in, NaN out otherwise).
TimeStats ComputeTimeStats(std::span<const double> x);

}  // namespace mh::features

#endif  // MH_FEATURES_MOMENTS_H_
