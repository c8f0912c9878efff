// Benchmark helper: the raw tri-axial waveform events stream-bench publishes
// and pipeline_bench decodes: per channel, a 50 Hz sine at fs 25.6 kHz plus
// N(0, 0.3) noise, as full doubles (decimals < 0) or rounded to `decimals`
// decimal places (the recordings in ../shared/data keep 3).
#ifndef MH_BENCH_WAVEFORM_EVENT_H_
#define MH_BENCH_WAVEFORM_EVENT_H_

#include <cmath>
#include <random>
#include <vector>

namespace mh::bench {

// Overwrites every sample of every channel in `channels`.
inline void FillWaveform(std::mt19937_64& rng, int decimals,
                         std::vector<std::vector<double>>& channels) {
  std::normal_distribution<double> noise(0, 0.3);
  const double scale = decimals < 0 ? 0 : std::pow(10.0, decimals);
  for (std::vector<double>& ch : channels) {
    for (std::size_t k = 0; k < ch.size(); ++k) {
      ch[k] = std::sin(2 * M_PI * 50 * static_cast<double>(k) / 25600.0) + noise(rng);
      if (decimals >= 0) ch[k] = std::round(ch[k] * scale) / scale;
    }
  }
}

}  // namespace mh::bench

#endif  // MH_BENCH_WAVEFORM_EVENT_H_
