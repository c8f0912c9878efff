// Test-only analytic vibration signals shared by the feature and alarm tests.
#ifndef MH_TESTING_VIBRATION_SIGNALS_H_
#define MH_TESTING_VIBRATION_SIGNALS_H_

#include <cstddef>
#include <vector>

namespace mh::testing {

// n samples at fs of a local bearing defect: a resonance of `resonance_hz`
// (unit amplitude, decay time 1.5 ms) struck at every multiple of
// 1/impact_hz (exact times, not rounded to samples; the first at 0.3 of a
// period), plus Gaussian noise of standard deviation `noise`, seeded.
std::vector<double> ImpactTrain(std::size_t n, double fs, double impact_hz, double resonance_hz,
                                double noise, unsigned seed);

}  // namespace mh::testing

#endif  // MH_TESTING_VIBRATION_SIGNALS_H_
