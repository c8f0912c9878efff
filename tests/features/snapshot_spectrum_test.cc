// features/snapshot_spectrum.h against analytic signals: a bin-centred sine
// reads its amplitude in its bin; an amplitude-modulated carrier inside the
// envelope band reads its modulation depth at the modulation frequency of
// the envelope spectrum.
#include "features/snapshot_spectrum.h"

#include <cmath>
#include <numbers>
#include <vector>

#include <gtest/gtest.h>

namespace mh::features {
namespace {

constexpr double kFs = 25600;
constexpr std::size_t kN = 512;  // bins of 50 Hz

std::vector<double> Signal(auto f) {
  std::vector<double> x(kN);
  for (std::size_t i = 0; i < kN; ++i) x[i] = f(static_cast<double>(i) / kFs);
  return x;
}

TEST(SnapshotSpectrumTest, ASineReadsItsAmplitudeInItsBin) {
  const double pi = std::numbers::pi;
  std::vector<std::vector<double>> ch = {
      Signal([&](double t) { return 0.7 * std::sin(2 * pi * 1000 * t); }),
      Signal([&](double t) { return 0.2 + 1.5 * std::cos(2 * pi * 5000 * t); })};
  Result<SnapshotSpectra> s = ComputeSnapshotSpectra(ch, kFs);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->freq_hz.size(), kN / 2 + 1);
  EXPECT_DOUBLE_EQ(s->freq_hz[20], 1000);
  ASSERT_EQ(s->amplitude.size(), 2u);
  for (std::size_t k = 0; k <= kN / 2; ++k) {
    const double want0 = k == 20 ? 0.7 : 0;
    const double want1 = k == 100 ? 1.5 : k == 0 ? 0.2 : 0;
    EXPECT_NEAR(s->amplitude[0][k], want0, 1e-12) << k;
    EXPECT_NEAR(s->amplitude[1][k], want1, 1e-12) << k;
  }
}

TEST(SnapshotSpectrumTest, TheEnvelopeShowsTheModulationFrequency) {
  const double pi = std::numbers::pi;
  // Carrier 3200 Hz (inside the default band fs/16..fs/4), 30 % modulated
  // at 150 Hz (bin 3): the envelope is 1 + 0.3 cos(2 pi 150 t).
  std::vector<std::vector<double>> ch = {Signal([&](double t) {
    return (1 + 0.3 * std::cos(2 * pi * 150 * t)) * std::cos(2 * pi * 3200 * t);
  })};
  Result<SnapshotSpectra> s = ComputeSnapshotSpectra(ch, kFs);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(s->envelope_band.lo_hz, kFs / 16);
  EXPECT_DOUBLE_EQ(s->envelope_band.hi_hz, kFs / 4);
  const std::vector<double>& e = s->envelope_amplitude[0];
  EXPECT_NEAR(e[3], 0.3, 1e-9);
  for (std::size_t k = 0; k <= kN / 2; ++k) {
    if (k != 3) {
      EXPECT_NEAR(e[k], 0, 1e-9) << k;
    }
  }
  // The raw spectrum holds the carrier and its two sidebands (0.15 each).
  EXPECT_NEAR(s->amplitude[0][64], 1, 1e-12);
  EXPECT_NEAR(s->amplitude[0][61], 0.15, 1e-12);
  EXPECT_NEAR(s->amplitude[0][67], 0.15, 1e-12);
}

TEST(SnapshotSpectrumTest, BadInputIsInvalidArgument) {
  std::vector<std::vector<double>> uneven = {std::vector<double>(64, 0), std::vector<double>(63)};
  EXPECT_TRUE(ComputeSnapshotSpectra(uneven, kFs).status().IsInvalidArgument());
  std::vector<std::vector<double>> nan = {std::vector<double>(64, 0)};
  nan[0][9] = NAN;
  EXPECT_NE(ComputeSnapshotSpectra(nan, kFs).status().message().find("sample 9"),
            std::string::npos);
  EXPECT_TRUE(ComputeSnapshotSpectra({}, kFs).status().IsInvalidArgument());
  std::vector<std::vector<double>> ok = {std::vector<double>(64, 0)};
  EXPECT_TRUE(ComputeSnapshotSpectra(ok, 0).status().IsInvalidArgument());
}

}  // namespace
}  // namespace mh::features
