// The full feature set (spectral shape, shape factors, zero-crossing rate,
// velocity), ISO 20816-3 zones and bearing defect frequencies.
#include <cmath>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "features/bearing.h"
#include "features/velocity.h"
#include "features/window_features.h"
#include "reference.h"

namespace mh::features {
namespace {

constexpr double kPi = std::numbers::pi;

std::vector<double> Sine(std::size_t n, double fs, double hz, double amp, double phase = 0) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = amp * std::sin(2 * kPi * hz * static_cast<double>(i) / fs + phase);
  }
  return x;
}

struct Computed {
  std::vector<std::string> names;
  std::vector<double> values;
  double operator[](const std::string& name) const {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return values[i];
    }
    ADD_FAILURE() << "no feature " << name;
    return std::nan("");
  }
};

Computed RunFull(const std::vector<double>& x, double fs, AccelUnit unit = AccelUnit::kG) {
  FeatureOptions o;
  o.sample_rate_hz = fs;
  o.window_samples = x.size();
  o.channels = {"x"};
  o.set = FeatureSet::kFull;
  o.unit = unit;
  auto ex = WindowFeatureExtractor::Create(o);
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  Computed c;
  if (!ex.ok()) return c;
  c.names = (*ex)->names();
  c.values.resize(c.names.size());
  std::span<const double> ch[] = {x};
  EXPECT_TRUE((*ex)->Compute(ch, c.values).ok());
  return c;
}

TEST(FullFeatures, NamesAppendAfterBands) {
  FeatureOptions o;
  o.channels = {"ax", "ay"};
  o.set = FeatureSet::kFull;
  auto ex = WindowFeatureExtractor::Create(o);
  ASSERT_TRUE(ex.ok());
  const auto& names = (*ex)->names();
  const std::size_t per = (*ex)->features_per_channel();
  ASSERT_EQ(per, 20u);  // 10 basic + 2 for the band + 8 full
  EXPECT_EQ(names[11], "band_rms_0_200_ax");
  EXPECT_EQ(names[12], "spectral_centroid_ax");
  EXPECT_EQ(names[per - 1], "velocity_rms_ax");
  EXPECT_EQ(names[per], "mean_ay");
}

TEST(FullFeatures, MatchNumpyAndScipy) {
  struct Case {
    std::size_t n;
    double fs;
    const char* unit;
  };
  for (const auto& [n, fs, unit] : {Case{2560, 25600, "g"}, Case{1001, 5000, "m/s2"}}) {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> dist(0.0, 0.3);
    std::vector<std::vector<double>> windows;
    std::vector<double> noise(n), tone = Sine(n, fs, 123.4, 1.0, 0.2), spiky(n);
    for (std::size_t i = 0; i < n; ++i) {
      noise[i] = dist(rng);
      tone[i] += 0.1 * dist(rng) + 0.4;
      spiky[i] = 0.05 * dist(rng) + (i % 300 == 5 ? 3.0 : 0.0);
    }
    windows = {noise, tone, spiky};
    {
      std::string error;
      const auto ref =
          testref::PythonReference(fs, {{0, 200}}, windows, &error, std::string("full ") + unit);
      ASSERT_TRUE(error.empty()) << error;
      ASSERT_EQ(ref.size(), windows.size());
      for (std::size_t w = 0; w < windows.size(); ++w) {
        const Computed c = RunFull(windows[w], fs, *ParseAccelUnit(unit));
        ASSERT_EQ(c.values.size(), ref[w].size());
        for (std::size_t i = 12; i < c.values.size(); ++i) {
          EXPECT_NEAR(c.values[i], ref[w][i], 1e-6 * std::fabs(ref[w][i]) + 1e-12)
              << c.names[i] << " n " << n << " window " << w << " unit " << unit;
        }
      }
    }
  }
}

TEST(FullFeatures, AnalyticSine) {
  // 1 g at 100 Hz: v = 9.80665 / (2 pi 100) / sqrt2 m/s = 11.04 mm/s.
  const double fs = 25600;
  const std::vector<double> x = Sine(2560, fs, 100, 1.0);
  const Computed c = RunFull(x, fs);
  EXPECT_NEAR(c["velocity_rms_x"], 11.04, 0.005);
  EXPECT_NEAR(c["velocity_rms_x"], 9.80665 / (2 * kPi * 100) / std::sqrt(2) * 1000, 1e-9);
  // The same acceleration in m/s^2.
  std::vector<double> si(x);
  for (double& v : si) v *= 9.80665;
  EXPECT_NEAR(RunFull(si, fs, AccelUnit::kMetersPerS2)["velocity_rms_x"], c["velocity_rms_x"],
              1e-9);
  // Outside 10..1000 Hz velocity is 0.
  EXPECT_NEAR(RunFull(Sine(2560, fs, 2000, 1.0), fs)["velocity_rms_x"], 0, 1e-9);
  // Pure tone: centroid at the tone, no spread, flatness ~0.
  EXPECT_NEAR(c["spectral_centroid_x"], 100, 1e-6);
  EXPECT_NEAR(c["spectral_spread_x"], 0, 1e-4);
  EXPECT_LT(c["spectral_flatness_x"], 1e-6);
  // Sine shape factors: rms/mean|x| = pi/(2 sqrt2), peak/mean|x| = pi/2.
  EXPECT_NEAR(c["shape_factor_x"], kPi / (2 * std::sqrt(2)), 1e-4);  // sampled mean|x|
  EXPECT_NEAR(c["impulse_factor_x"], kPi / 2, 1e-3);                 // sampled crest: within 1e-3
  // 10 periods -> ~20 zero crossings over 2559 sample pairs.
  EXPECT_NEAR(c["zero_crossing_rate_x"] * 2559, 20, 1.0);
}

TEST(FullFeatures, WhiteNoiseIsFlat) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> dist(0.0, 1.0);
  std::vector<double> x(8192);
  for (double& v : x) v = dist(rng);
  const Computed c = RunFull(x, 8192);
  // White noise: centroid ~ fs/4, spread ~ fs/(4 sqrt3), flatness ~ exp(-gamma)
  // (periodogram bins are exponential).
  EXPECT_NEAR(c["spectral_centroid_x"], 2048, 60);
  EXPECT_NEAR(c["spectral_spread_x"], 4096 / std::sqrt(12), 40);
  EXPECT_NEAR(c["spectral_flatness_x"], std::exp(-0.5772156649), 0.03);
  EXPECT_NEAR(c["zero_crossing_rate_x"], 0.5, 0.03);
}

TEST(Iso20816, BoundariesBelongToTheUpperZone) {
  struct Case {
    IsoGroup g;
    Foundation f;
    double ab, bc, cd;
  };
  for (const Case& k : {Case{IsoGroup::kGroup2, Foundation::kRigid, 1.4, 2.8, 4.5},
                        Case{IsoGroup::kGroup2, Foundation::kFlexible, 2.3, 4.5, 7.1},
                        Case{IsoGroup::kGroup1, Foundation::kRigid, 2.3, 4.5, 7.1},
                        Case{IsoGroup::kGroup1, Foundation::kFlexible, 3.5, 7.1, 11.0}}) {
    auto zone = [&](double v) { return *Iso20816Zone(v, k.g, k.f); };
    EXPECT_EQ(zone(0), IsoZone::kA);
    EXPECT_EQ(zone(std::nextafter(k.ab, 0)), IsoZone::kA);
    EXPECT_EQ(zone(k.ab), IsoZone::kB);
    EXPECT_EQ(zone(std::nextafter(k.bc, 0)), IsoZone::kB);
    EXPECT_EQ(zone(k.bc), IsoZone::kC);
    EXPECT_EQ(zone(std::nextafter(k.cd, 0)), IsoZone::kC);
    EXPECT_EQ(zone(k.cd), IsoZone::kD);
    EXPECT_EQ(zone(1000), IsoZone::kD);
  }
  EXPECT_FALSE(Iso20816Zone(std::nan(""), IsoGroup::kGroup1, Foundation::kRigid).ok());
  EXPECT_FALSE(Iso20816Zone(-0.1, IsoGroup::kGroup1, Foundation::kRigid).ok());
  EXPECT_STREQ(IsoZoneName(IsoZone::kC), "C");
}

TEST(Bearing, BuiltInGeometriesMatchPublishedFrequencies) {
  // Values from ../shared/data/{cwru,ims,femto}/README.md.
  auto freqs = [](const char* name, double fr) {
    auto g = LookupBearing(name);
    EXPECT_TRUE(g.ok()) << name;
    auto f = ComputeBearingFrequencies(*g, fr);
    EXPECT_TRUE(f.ok());
    return *f;
  };
  const BearingFrequencies cwru = freqs("6205", 1.0);
  EXPECT_NEAR(cwru.bpfo_hz, 3.5848, 1e-4);
  EXPECT_NEAR(cwru.bpfi_hz, 5.4152, 1e-4);
  EXPECT_NEAR(cwru.ftf_hz, 0.3983, 1e-4);
  EXPECT_NEAR(cwru.bsf_hz, 2.3567, 1e-4);
  const BearingFrequencies ims = freqs("za2115", 2000.0 / 60);
  EXPECT_NEAR(ims.bpfo_hz, 236.4, 0.05);
  EXPECT_NEAR(ims.bpfi_hz, 296.9, 0.05);
  EXPECT_NEAR(ims.bsf_hz, 139.9, 0.05);
  EXPECT_NEAR(ims.ftf_hz, 14.78, 0.005);
  const BearingFrequencies femto = freqs("femto", 30);
  EXPECT_NEAR(femto.bpfo_hz, 168.3, 0.05);
  EXPECT_NEAR(femto.bpfi_hz, 221.7, 0.05);
  EXPECT_NEAR(femto.bsf_hz, 107.7, 0.05);
  EXPECT_NEAR(femto.ftf_hz, 12.95, 0.005);
  // BPFO + BPFI = Z * fr.
  EXPECT_NEAR(femto.bpfo_hz + femto.bpfi_hz, 13 * 30, 1e-9);
  EXPECT_TRUE(LookupBearing("6206").status().IsNotFound());
  EXPECT_FALSE(ComputeBearingFrequencies(BearingGeometry{9, 2, 1, 0}, 30).ok());
  EXPECT_FALSE(ComputeBearingFrequencies(*LookupBearing("6205"), 0).ok());
}

}  // namespace
}  // namespace mh::features
