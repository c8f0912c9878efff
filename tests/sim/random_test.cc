#include "sim/random.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace mh::sim {
namespace {

// Published SplitMix64 outputs for seed 0 (Vigna's reference splitmix64.c).
TEST(SplitMix64Test, MatchesReferenceVector) {
  SplitMix64 mix(0);
  EXPECT_EQ(mix.Next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(mix.Next(), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(mix.Next(), 0x06c45d188009454fULL);
}

TEST(Xoshiro256Test, SameSeedSameStreamDifferentSeedDifferent) {
  Xoshiro256 a(42), b(42), c(43);
  int differ = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differ += x != c.Next();
  }
  EXPECT_EQ(differ, 1000);
}

TEST(Xoshiro256Test, UniformRanges) {
  Xoshiro256 rng(7);
  double lo = 1, hi = 0, sum = 0;
  constexpr int kN = 100000;
  for (int i = 0; i < kN; ++i) {
    const double u = rng.Uniform();
    const double p = rng.UniformPositive();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    ASSERT_GT(p, 0.0);
    ASSERT_LE(p, 1.0);
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    sum += u;
  }
  EXPECT_LT(lo, 1e-3);
  EXPECT_GT(hi, 1 - 1e-3);
  // Mean of U(0,1): 1/2, standard error 1/sqrt(12 N).
  EXPECT_NEAR(sum / kN, 0.5, 5.0 / std::sqrt(12.0 * kN));
}

double NormalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// The ziggurat's output against the analytic normal law: Kolmogorov-Smirnov
// distance, moments and the tail beyond the ziggurat's r (the slow path).
TEST(GaussianTest, MatchesStandardNormal) {
  Xoshiro256 rng(2024);
  constexpr int kN = 400000;
  std::vector<double> x(kN);
  double sum = 0, sum2 = 0, sum4 = 0;
  int tail = 0;
  for (double& v : x) {
    v = rng.Gaussian();
    sum += v;
    sum2 += v * v;
    sum4 += v * v * v * v;
    tail += std::fabs(v) > 3.6541528853610088;
  }
  const double mean = sum / kN;
  const double var = sum2 / kN - mean * mean;
  EXPECT_NEAR(mean, 0.0, 5.0 / std::sqrt(kN));
  EXPECT_NEAR(var, 1.0, 5.0 * std::sqrt(2.0 / kN));
  EXPECT_NEAR(sum4 / kN, 3.0, 5.0 * std::sqrt(96.0 / kN));
  const double p_tail = std::erfc(3.6541528853610088 / std::sqrt(2.0));
  EXPECT_NEAR(tail, p_tail * kN, 5.0 * std::sqrt(p_tail * kN));
  std::sort(x.begin(), x.end());
  double d = 0;
  for (int i = 0; i < kN; ++i) {
    const double f = NormalCdf(x[i]);
    d = std::max({d, f - static_cast<double>(i) / kN, static_cast<double>(i + 1) / kN - f});
  }
  // KS critical value at alpha = 0.001: 1.95 / sqrt(N).
  EXPECT_LT(d, 1.95 / std::sqrt(kN));
}

TEST(GaussianTest, ZigguratTablesAreConsistent) {
  const auto& z = internal::Ziggurat();
  EXPECT_EQ(z.x[256], 0.0);
  for (int i = 1; i < 256; ++i) EXPECT_GT(z.x[i], z.x[i + 1]);
  // The base layer (rectangle [0, r] x [0, f(r)] plus the tail, analytically
  // sqrt(pi/2) erfc(r/sqrt(2))) and every other layer, the top one included,
  // have the same area.
  const double r = z.x[1];
  const double v = r * z.f[1] + std::sqrt(std::acos(-1.0) / 2) * std::erfc(r / std::sqrt(2.0));
  EXPECT_NEAR(z.x[0] * z.f[1], v, 1e-11 * v);
  for (int i = 1; i < 256; ++i) {
    EXPECT_NEAR(z.x[i] * (z.f[i + 1] - z.f[i]), v, 1e-9 * v) << i;
  }
  EXPECT_NEAR(z.x[255] * (1.0 - z.f[255]), v, 1e-9 * v);
}

}  // namespace
}  // namespace mh::sim
