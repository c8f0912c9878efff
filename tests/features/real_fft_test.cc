// RealFft's two backends (features/real_fft.h): FFTW against KissFFT (the
// previous implementation) on random input, both against a direct DFT in
// long double, and the argument checks.
#include "features/real_fft.h"

#include <cmath>
#include <complex>
#include <numbers>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace mh::features {
namespace {

std::vector<double> RandomSignal(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> x(n);
  for (double& v : x) v = g(rng);
  x[0] += 3.0;  // a DC offset
  return x;
}

std::vector<std::complex<double>> Transform(FftBackend backend, const std::vector<double>& x) {
  auto fft = RealFft::Create(x.size(), backend);
  EXPECT_TRUE(fft.ok()) << fft.status().message();
  std::vector<std::complex<double>> out((*fft)->bins());
  (*fft)->Forward(x, out);
  return out;
}

// max_k |a_k - b_k| / max_k |b_k|.
double RelativeError(const std::vector<std::complex<double>>& a,
                     const std::vector<std::complex<double>>& b) {
  double err = 0, scale = 0;
  for (std::size_t k = 0; k < b.size(); ++k) {
    err = std::max(err, std::abs(a[k] - b[k]));
    scale = std::max(scale, std::abs(b[k]));
  }
  return err / scale;
}

std::vector<std::complex<double>> DirectDft(const std::vector<double>& x) {
  const std::size_t n = x.size();
  std::vector<std::complex<double>> out(n / 2 + 1);
  for (std::size_t k = 0; k < out.size(); ++k) {
    long double re = 0, im = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const long double a = -2.0L * std::numbers::pi_v<long double> *
                            static_cast<long double>((k * i) % n) / static_cast<long double>(n);
      re += x[i] * std::cos(a);
      im += x[i] * std::sin(a);
    }
    out[k] = {static_cast<double>(re), static_cast<double>(im)};
  }
  return out;
}

// Even, odd, prime and the window lengths of the feature sets.
const std::size_t kLengths[] = {2, 3, 8, 17, 100, 257, 640, 1000, 1024, 2560, 4096};

TEST(RealFftTest, FftwEqualsKissFftOnRandomInput) {
  if (!HaveFftw()) GTEST_SKIP() << "built with MH_WITH_FFTW=OFF";
  for (std::size_t n : kLengths) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      const std::vector<double> x = RandomSignal(n, seed * 7919 + n);
      const auto fftw = Transform(FftBackend::kFftw, x);
      const auto kiss = Transform(FftBackend::kKissFft, x);
      ASSERT_EQ(fftw.size(), n / 2 + 1);
      EXPECT_LT(RelativeError(fftw, kiss), 1e-12) << "n=" << n << " seed=" << seed;
      // Real input: DC and (even N) Nyquist are real.
      EXPECT_EQ(fftw[0].imag(), 0.0) << "n=" << n;
      if (n % 2 == 0) {
        EXPECT_EQ(fftw[n / 2].imag(), 0.0) << "n=" << n;
      }
    }
  }
}

TEST(RealFftTest, EveryBackendMatchesADirectDft) {
  for (FftBackend b : {FftBackend::kDefault, FftBackend::kKissFft, FftBackend::kFftw}) {
    if (b == FftBackend::kFftw && !HaveFftw()) continue;
    for (std::size_t n : {3, 16, 17, 640, 1024}) {
      const std::vector<double> x = RandomSignal(n, 42 + n);
      EXPECT_LT(RelativeError(Transform(b, x), DirectDft(x)), 1e-12)
          << "backend=" << static_cast<int>(b) << " n=" << n;
    }
  }
}

TEST(RealFftTest, PlanIsReusedAcrossInputs) {
  // One plan, many windows: each result depends on its own input only.
  const std::size_t n = 2560;
  auto fft = RealFft::Create(n);
  ASSERT_TRUE(fft.ok());
  std::vector<std::complex<double>> out(n / 2 + 1);
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const std::vector<double> x = RandomSignal(n, seed);
    (*fft)->Forward(x, out);
    EXPECT_EQ(out, Transform(FftBackend::kDefault, x)) << "seed=" << seed;
  }
}

TEST(RealFftTest, RejectsShortLengthsAndMissingBackend) {
  auto one = RealFft::Create(1);
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.status().message().find("at least 2"), std::string::npos);
  auto fftw = RealFft::Create(8, FftBackend::kFftw);
  EXPECT_EQ(fftw.ok(), HaveFftw());
  if (!HaveFftw()) {
    EXPECT_NE(fftw.status().message().find("FFTW"), std::string::npos);
  }
}

}  // namespace
}  // namespace mh::features
