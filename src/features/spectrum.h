// Helpers over a one-sided spectrum X_0..X_{N/2} of a real window of N
// samples (numpy.fft.rfft convention, unnormalised): bin frequencies, peak
// search and band sums.
//
// Thread safety: pure functions, safe from any thread.
#ifndef MH_FEATURES_SPECTRUM_H_
#define MH_FEATURES_SPECTRUM_H_

#include <complex>
#include <cstddef>
#include <span>

namespace mh::features {

// A frequency band in Hz; bins with lo_hz <= f_k <= hi_hz (inclusive).
struct Band {
  double lo_hz = 0;
  double hi_hz = 200;
};

// Frequency of bin k in Hz, computed exactly as numpy.fft.rfftfreq(n, 1/fs)
// does (k * (1 / (n * (1 / fs)))), so that band edges select the same bins.
double BinFrequencyHz(std::size_t k, std::size_t n, double sample_rate_hz);

// Half-open bin range [first, last).
struct BinRange {
  std::size_t first = 0;
  std::size_t last = 0;
};

// The bins k in 0..n/2 with lo_hz <= f_k <= hi_hz (possibly empty).
BinRange BandBins(double lo_hz, double hi_hz, std::size_t n, double sample_rate_hz);

// Weight of bin k in a one-sided Parseval sum for a real signal of length n:
// 1 for DC and (n even) the Nyquist bin, 2 otherwise.
double OneSidedWeight(std::size_t k, std::size_t n);

// power[k] = |spectrum[k]|^2. Precondition (checked): equal sizes.
void PowerSpectrum(std::span<const std::complex<double>> spectrum, std::span<double> power);

// Sum of power[k] over `range` (raw |X_k|^2, no normalisation).
double BandEnergy(std::span<const double> power, BinRange range);

// RMS in signal units of the part of the signal whose bins lie in `range`
// (Parseval): sqrt(sum_k w_k |X_k|^2) / n with w_k = OneSidedWeight(k, n).
double BandRms(std::span<const double> power, BinRange range, std::size_t n);

// Index of the largest power[k] for k >= 1 (DC excluded); the first on ties.
// Precondition (checked): power.size() >= 2.
std::size_t PeakBinExcludingDc(std::span<const double> power);

// Single-sided amplitude of a sinusoid in bin k: 2|X_k|/n, or |X_k|/n for DC
// and the Nyquist bin.
double SingleSidedAmplitude(double power_k, std::size_t k, std::size_t n);

// The bins "within one bin" of `hz`: k_c = round(hz / df) (df = fs/n), then
// [k_c - 1, k_c + 1] clipped to 1..n/2 (DC never included). Empty when
// k_c - 1 > n/2. Used for amplitudes at a given frequency (orders, bearing
// frequencies): the maximum over these bins tolerates a frequency between
// two bins and a shaft speed off by up to one bin.
BinRange BinsNear(double hz, std::size_t n, double sample_rate_hz);

// max over BinsNear(hz) of SingleSidedAmplitude(power[k], k, n); 0 when the
// range is empty. Precondition (checked): power.size() == n/2 + 1.
double AmplitudeNear(std::span<const double> power, double hz, std::size_t n,
                     double sample_rate_hz);

}  // namespace mh::features

#endif  // MH_FEATURES_SPECTRUM_H_
