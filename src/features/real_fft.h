// RealFft: the discrete Fourier transform of a real sequence of fixed length
// N, returning bins 0..N/2 (numpy.fft.rfft's convention: unnormalised,
// X_k = sum_n x_n exp(-2 pi i k n / N)). Backed by KissFFT (double); even N
// uses the half-length complex transform, odd N the full-length one.
//
// Thread safety: a RealFft is not thread-safe (it owns scratch buffers); use
// one per thread. Forward does not allocate.
#ifndef MH_FEATURES_REAL_FFT_H_
#define MH_FEATURES_REAL_FFT_H_

#include <complex>
#include <cstddef>
#include <memory>
#include <span>

#include "core/result.h"

namespace mh::features {

class RealFft {
 public:
  // A plan for length `n`. InvalidArgument when n < 2.
  static Result<std::unique_ptr<RealFft>> Create(std::size_t n);

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
  explicit RealFft(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::features

#endif  // MH_FEATURES_REAL_FFT_H_
