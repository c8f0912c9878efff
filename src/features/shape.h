// Extra descriptors of one window for the "full" feature set: waveform shape
// factors, zero-crossing rate and spectral shape. Formulas: docs/features.md.
//
// Thread safety: pure functions, safe from any thread.
#ifndef MH_FEATURES_SHAPE_H_
#define MH_FEATURES_SHAPE_H_

#include <cstddef>
#include <span>

namespace mh::features {

// Dimensionless waveform descriptors. Each ratio is 0 when its denominator
// is 0 (an all-zero window).
struct ShapeStats {
  double shape_factor = 0;        // rms / mean(|x|)
  double impulse_factor = 0;      // peak / mean(|x|)
  double clearance_factor = 0;    // peak / mean(sqrt(|x|))^2
  double zero_crossing_rate = 0;  // sign changes of x - mean per sample pair, 0..1
};

// Shape statistics of `x` given its mean, rms and peak (from
// ComputeTimeStats). Precondition (checked): x.size() >= 2.
ShapeStats ComputeShapeStats(std::span<const double> x, double mean, double rms, double peak);

// Spectral shape of a one-sided power spectrum (|X_k|^2, k = 0..n/2), DC
// excluded, frequencies per BinFrequencyHz. All 0 when the non-DC power is 0.
struct SpectralShape {
  double centroid_hz = 0;  // sum f_k P_k / sum P_k
  double spread_hz = 0;    // sqrt(sum (f_k - centroid)^2 P_k / sum P_k)
  double flatness = 0;     // geometric / arithmetic mean of P_k, 0..1
};

// Precondition (checked): power.size() == n/2 + 1, n >= 2.
SpectralShape ComputeSpectralShape(std::span<const double> power, std::size_t n,
                                   double sample_rate_hz);

}  // namespace mh::features

#endif  // MH_FEATURES_SHAPE_H_
