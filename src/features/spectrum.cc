#include "features/spectrum.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace mh::features {

double BinFrequencyHz(std::size_t k, std::size_t n, double sample_rate_hz) {
  // Same operation order as numpy.fft.rfftfreq: val = 1.0 / (n * d).
  const double d = 1.0 / sample_rate_hz;
  const double val = 1.0 / (static_cast<double>(n) * d);
  return static_cast<double>(k) * val;
}

BinRange BandBins(double lo_hz, double hi_hz, std::size_t n, double sample_rate_hz) {
  BinRange range;
  const std::size_t bins = n / 2 + 1;
  std::size_t k = 0;
  while (k < bins && BinFrequencyHz(k, n, sample_rate_hz) < lo_hz) ++k;
  range.first = k;
  while (k < bins && BinFrequencyHz(k, n, sample_rate_hz) <= hi_hz) ++k;
  range.last = k;
  return range;
}

double OneSidedWeight(std::size_t k, std::size_t n) {
  if (k == 0) return 1.0;
  if (n % 2 == 0 && k == n / 2) return 1.0;
  return 2.0;
}

void PowerSpectrum(std::span<const std::complex<double>> spectrum, std::span<double> power) {
  MH_CHECK(spectrum.size() == power.size());
  for (std::size_t k = 0; k < spectrum.size(); ++k) {
    const double re = spectrum[k].real();
    const double im = spectrum[k].imag();
    power[k] = re * re + im * im;
  }
}

double BandEnergy(std::span<const double> power, BinRange range) {
  double sum = 0;
  for (std::size_t k = range.first; k < range.last; ++k) sum += power[k];
  return sum;
}

double BandRms(std::span<const double> power, BinRange range, std::size_t n) {
  double sum = 0;
  for (std::size_t k = range.first; k < range.last; ++k) sum += OneSidedWeight(k, n) * power[k];
  return std::sqrt(sum) / static_cast<double>(n);
}

std::size_t PeakBinExcludingDc(std::span<const double> power) {
  MH_CHECK(power.size() >= 2);
  std::size_t best = 1;
  for (std::size_t k = 2; k < power.size(); ++k) {
    if (power[k] > power[best]) best = k;
  }
  return best;
}

double SingleSidedAmplitude(double power_k, std::size_t k, std::size_t n) {
  return OneSidedWeight(k, n) * std::sqrt(power_k) / static_cast<double>(n);
}

BinRange BinsNear(double hz, std::size_t n, double sample_rate_hz) {
  const double df = BinFrequencyHz(1, n, sample_rate_hz);
  const double center = std::round(hz / df);
  const std::size_t top = n / 2;
  BinRange r;
  if (!(center >= 0) || center - 1 > static_cast<double>(top)) return r;
  const auto c = static_cast<std::size_t>(center);
  r.first = c > 1 ? c - 1 : 1;
  r.last = std::min(c + 1, top) + 1;
  if (r.first >= r.last) r = BinRange{};
  return r;
}

double AmplitudeNear(std::span<const double> power, double hz, std::size_t n,
                     double sample_rate_hz) {
  MH_CHECK(power.size() == n / 2 + 1);
  const BinRange r = BinsNear(hz, n, sample_rate_hz);
  double best = 0;
  for (std::size_t k = r.first; k < r.last; ++k) {
    best = std::max(best, SingleSidedAmplitude(power[k], k, n));
  }
  return best;
}

}  // namespace mh::features
