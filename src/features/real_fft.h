// RealFft: the discrete Fourier transform of a real sequence of fixed length
// N, returning bins 0..N/2 (numpy.fft.rfft's convention: unnormalised,
// X_k = sum_n x_n exp(-2 pi i k n / N)), in double precision. Two backends:
// FFTW 3 (a real-input plan made once per RealFft with FFTW_ESTIMATE, which
// is deterministic; the default when built with MH_WITH_FFTW) and KissFFT
// (always built; even N uses the half-length complex transform, odd N the
// full-length one). They agree to about 1e-15 relative (tests/features).
//
// Thread safety: a RealFft is not thread-safe (it owns scratch buffers); use
// one per thread. Create may be called from any thread (FFTW's planner is
// serialised inside). Forward does not allocate.
#ifndef MH_FEATURES_REAL_FFT_H_
#define MH_FEATURES_REAL_FFT_H_

#include <complex>
#include <cstddef>
#include <memory>
#include <span>

#include "core/result.h"

namespace mh::features {

enum class FftBackend {
  kDefault,  // FFTW when built with it, else KissFFT
  kKissFft,
  kFftw,  // NotSupported from Create when built without FFTW
};

// Whether this build has the FFTW backend.
bool HaveFftw();

class RealFft {
 public:
  // A plan for length `n`. InvalidArgument when n < 2.
  static Result<std::unique_ptr<RealFft>> Create(std::size_t n,
                                                 FftBackend backend = FftBackend::kDefault);

  ~RealFft();
  RealFft(const RealFft&) = delete;
  RealFft& operator=(const RealFft&) = delete;

  // Transform length N.
  std::size_t size() const;
  // Number of output bins, N/2 + 1.
  std::size_t bins() const { return size() / 2 + 1; }

  // out[k] = X_k for k = 0..N/2. Preconditions (checked): x.size() == size(),
  // out.size() == bins().
  void Forward(std::span<const double> x, std::span<std::complex<double>> out);

 private:
  struct Impl;
  struct KissImpl;
  struct FftwImpl;
  explicit RealFft(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::features

#endif  // MH_FEATURES_REAL_FFT_H_
