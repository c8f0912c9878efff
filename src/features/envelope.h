// EnvelopeAnalyzer: envelope analysis of one window for bearing diagnostics.
// The window is band-pass filtered around a structural resonance, its Hilbert
// envelope (magnitude of the analytic signal) is taken, and the spectrum of
// that envelope shows the repetition rate of the impacts that excite the
// resonance (BPFO, BPFI, ... of a damaged bearing). Formulas: docs/features.md.
//
// Thread safety: an analyzer is not thread-safe (it owns plans and scratch
// buffers); use one per thread. Compute does not allocate.
#ifndef MH_FEATURES_ENVELOPE_H_
#define MH_FEATURES_ENVELOPE_H_

#include <complex>
#include <cstddef>
#include <memory>
#include <span>

#include "core/result.h"
#include "features/spectrum.h"

namespace mh::features {

// The default resonance band for sampling rate fs: [fs/16, fs/4] Hz
// (1.6-6.4 kHz at 25.6 kHz, 0.75-3 kHz at 12 kHz, 3-12 kHz at 48 kHz).
Band DefaultEnvelopeBand(double sample_rate_hz);

class EnvelopeAnalyzer {
 public:
  // Plans the transforms for windows of `n` samples at `sample_rate_hz`.
  // InvalidArgument for n < 4, fs <= 0 or non-finite, or a band with a
  // non-finite or negative edge, lo >= hi, hi > fs/2, or no bin inside.
  static Result<std::unique_ptr<EnvelopeAnalyzer>> Create(std::size_t n, double sample_rate_hz,
                                                          Band band);

  ~EnvelopeAnalyzer();
  EnvelopeAnalyzer(const EnvelopeAnalyzer&) = delete;
  EnvelopeAnalyzer& operator=(const EnvelopeAnalyzer&) = delete;

  // Analyses the window whose one-sided spectrum (numpy.fft.rfft of the raw
  // samples, bins 0..n/2) is `spectrum`. Steps:
  //   1. band-pass: keep the bins k with band.lo <= f_k <= band.hi (ideal,
  //      zero-phase brick-wall filter; equals irfft of the masked spectrum);
  //   2. analytic signal z = ifft(Z), Z_k = h_k X_k on the kept bins and 0
  //      elsewhere, h = 1 at DC and Nyquist, 2 at 0 < k < n/2 (exactly
  //      scipy.signal.hilbert of the band-passed window);
  //   3. envelope e_n = |z_n|;
  //   4. envelope spectrum: the rfft of e - mean(e).
  // Precondition (checked): spectrum.size() == n/2 + 1.
  void Compute(std::span<const std::complex<double>> spectrum);

  // The envelope e of the last Compute, n samples, in signal units.
  std::span<const double> envelope() const;
  // |E_k|^2 of the envelope spectrum of the last Compute, bins 0..n/2.
  std::span<const double> power() const;
  // Single-sided amplitude (signal units) of the envelope spectrum at `hz`:
  // the maximum of SingleSidedAmplitude over BinsNear(hz) (within +/- 1
  // bin); 0 when hz is beyond Nyquist.
  double AmplitudeAt(double hz) const;

  std::size_t size() const;
  double sample_rate_hz() const;
  // The band as given and the bins it keeps.
  Band band() const;
  BinRange band_bins() const;

 private:
  struct Impl;
  explicit EnvelopeAnalyzer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::features

#endif  // MH_FEATURES_ENVELOPE_H_
