#include "features/real_fft.h"

#include <vector>

#include <kissfft.hh>

#include "core/check.h"

namespace mh::features {

struct RealFft::Impl {
  Impl(std::size_t n_in, bool even)
      : n(n_in), half(even), plan(even ? n_in / 2 : n_in, /*inverse=*/false) {}

  std::size_t n;
  bool half;  // even N: packed half-length complex transform
  kissfft<double> plan;
  std::vector<std::complex<double>> in;   // odd N: complex copy of x
  std::vector<std::complex<double>> out;  // transform output
  std::vector<double> real_in;            // even N: contiguous input copy
};

RealFft::RealFft(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RealFft::~RealFft() = default;

Result<std::unique_ptr<RealFft>> RealFft::Create(std::size_t n) {
  if (n < 2) return Status::InvalidArgument("fft length must be at least 2");
  const bool even = n % 2 == 0;
  auto impl = std::make_unique<Impl>(n, even);
  if (even) {
    impl->real_in.assign(n, 0.0);
    impl->out.assign(n / 2, {0.0, 0.0});
  } else {
    impl->in.assign(n, {0.0, 0.0});
    impl->out.assign(n, {0.0, 0.0});
  }
  std::unique_ptr<RealFft> fft(new RealFft(std::move(impl)));
  // Warm-up: KissFFT grows a scratch buffer on the first transform with a
  // generic radix; do it here so that Forward never allocates.
  std::vector<double> zeros(n, 0.0);
  std::vector<std::complex<double>> bins(n / 2 + 1);
  fft->Forward(zeros, bins);
  return fft;
}

std::size_t RealFft::size() const { return impl_->n; }

void RealFft::Forward(std::span<const double> x, std::span<std::complex<double>> out) {
  Impl& m = *impl_;
  MH_CHECK(x.size() == m.n);
  MH_CHECK(out.size() == m.n / 2 + 1);
  if (m.half) {
    // transform_real reads the input as N/2 complex values; copy into our
    // own aligned buffer rather than reinterpret the caller's span.
    std::copy(x.begin(), x.end(), m.real_in.begin());
    m.plan.transform_real(m.real_in.data(), m.out.data());
    const std::size_t h = m.n / 2;
    // out[0] packs DC (real part) and Nyquist (imaginary part).
    out[0] = {m.out[0].real(), 0.0};
    out[h] = {m.out[0].imag(), 0.0};
    for (std::size_t k = 1; k < h; ++k) out[k] = m.out[k];
  } else {
    for (std::size_t i = 0; i < m.n; ++i) m.in[i] = {x[i], 0.0};
    m.plan.transform(m.in.data(), m.out.data());
    for (std::size_t k = 0; k < out.size(); ++k) out[k] = m.out[k];
  }
}

}  // namespace mh::features
