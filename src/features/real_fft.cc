#include "features/real_fft.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include <kissfft.hh>

#ifndef MH_WITH_FFTW
#define MH_WITH_FFTW 0
#endif
#if MH_WITH_FFTW
#include <fftw3.h>
#endif

#include "core/check.h"

namespace mh::features {

struct RealFft::Impl {
  explicit Impl(std::size_t n_in) : n(n_in) {}
  virtual ~Impl() = default;
  virtual void Forward(std::span<const double> x, std::span<std::complex<double>> out) = 0;
  std::size_t n;
};

struct RealFft::KissImpl final : RealFft::Impl {
  explicit KissImpl(std::size_t n_in)
      : Impl(n_in), half(n_in % 2 == 0), plan(half ? n_in / 2 : n_in, /*inverse=*/false) {
    if (half) {
      real_in.assign(n, 0.0);
      tmp.assign(n / 2, {0.0, 0.0});
    } else {
      in.assign(n, {0.0, 0.0});
      tmp.assign(n, {0.0, 0.0});
    }
  }

  void Forward(std::span<const double> x, std::span<std::complex<double>> out) override {
    if (half) {
      // transform_real reads the input as N/2 complex values; copy into our
      // own aligned buffer rather than reinterpret the caller's span.
      std::copy(x.begin(), x.end(), real_in.begin());
      plan.transform_real(real_in.data(), tmp.data());
      const std::size_t h = n / 2;
      // tmp[0] packs DC (real part) and Nyquist (imaginary part).
      out[0] = {tmp[0].real(), 0.0};
      out[h] = {tmp[0].imag(), 0.0};
      for (std::size_t k = 1; k < h; ++k) out[k] = tmp[k];
    } else {
      for (std::size_t i = 0; i < n; ++i) in[i] = {x[i], 0.0};
      plan.transform(in.data(), tmp.data());
      for (std::size_t k = 0; k < out.size(); ++k) out[k] = tmp[k];
    }
  }

  bool half;  // even N: packed half-length complex transform
  kissfft<double> plan;
  std::vector<std::complex<double>> in;   // odd N: complex copy of x
  std::vector<std::complex<double>> tmp;  // transform output
  std::vector<double> real_in;            // even N: contiguous input copy
};

#if MH_WITH_FFTW
namespace {
// FFTW's planner (and plan destruction) is not thread-safe; execution is.
std::mutex& PlannerMutex() {
  static std::mutex mu;
  return mu;
}
}  // namespace

struct RealFft::FftwImpl final : RealFft::Impl {
  explicit FftwImpl(std::size_t n_in) : Impl(n_in) {
    in = static_cast<double*>(fftw_malloc(sizeof(double) * n));
    out = static_cast<fftw_complex*>(fftw_malloc(sizeof(fftw_complex) * (n / 2 + 1)));
    MH_CHECK(in != nullptr && out != nullptr);
    std::lock_guard lock(PlannerMutex());
    // FFTW_ESTIMATE: no timing runs, so the same plan (and the same bits)
    // on every run; the plan is made once and reused for every window.
    plan = fftw_plan_dft_r2c_1d(static_cast<int>(n), in, out, FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
    MH_CHECK(plan != nullptr);
  }
  ~FftwImpl() override {
    {
      std::lock_guard lock(PlannerMutex());
      fftw_destroy_plan(plan);
    }
    fftw_free(in);
    fftw_free(out);
  }

  void Forward(std::span<const double> x, std::span<std::complex<double>> res) override {
    std::memcpy(in, x.data(), sizeof(double) * n);
    fftw_execute(plan);
    // fftw_complex is double[2], laid out as std::complex<double>.
    std::memcpy(static_cast<void*>(res.data()), out, sizeof(fftw_complex) * res.size());
  }

  double* in = nullptr;
  fftw_complex* out = nullptr;
  fftw_plan plan = nullptr;
};
#endif

bool HaveFftw() { return MH_WITH_FFTW != 0; }

RealFft::RealFft(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RealFft::~RealFft() = default;

Result<std::unique_ptr<RealFft>> RealFft::Create(std::size_t n, FftBackend backend) {
  if (n < 2) return Status::InvalidArgument("fft length must be at least 2");
  if (backend == FftBackend::kDefault) {
    backend = HaveFftw() ? FftBackend::kFftw : FftBackend::kKissFft;
  }
  std::unique_ptr<Impl> impl;
  if (backend == FftBackend::kFftw) {
#if MH_WITH_FFTW
    impl = std::make_unique<FftwImpl>(n);
#else
    return Status::NotSupported("this build has no FFTW (MH_WITH_FFTW=OFF)");
#endif
  } else {
    impl = std::make_unique<KissImpl>(n);
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
  MH_CHECK(x.size() == impl_->n);
  MH_CHECK(out.size() == impl_->n / 2 + 1);
  impl_->Forward(x, out);
}

}  // namespace mh::features
