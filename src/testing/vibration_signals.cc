#include "testing/vibration_signals.h"

#include <cmath>
#include <numbers>
#include <random>

namespace mh::testing {

std::vector<double> ImpactTrain(std::size_t n, double fs, double impact_hz, double resonance_hz,
                                double noise, unsigned seed) {
  std::vector<double> x(n, 0.0);
  const double tau = 0.0015;  // s: decay time, a sixth of a 107 Hz BPFO period
  const double period = 1.0 / impact_hz;
  const double duration = static_cast<double>(n) / fs;
  for (double t0 = 0.3 * period; t0 < duration; t0 += period) {
    const auto first = static_cast<std::size_t>(std::ceil(t0 * fs));
    for (std::size_t i = first; i < n; ++i) {
      const double t = static_cast<double>(i) / fs - t0;
      if (t > 12 * tau) break;
      x[i] += std::exp(-t / tau) * std::sin(2 * std::numbers::pi * resonance_hz * t);
    }
  }
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist(0.0, noise);
  for (double& v : x) v += dist(rng);
  return x;
}

}  // namespace mh::testing
