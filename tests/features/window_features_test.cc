#include "features/window_features.h"

#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extractor_helpers.h"
#include "reference.h"

namespace mh::features {
namespace {

using ::testing::HasSubstr;
using testref::MakeExtractor;
using testref::ValueOf;

constexpr double kPi = std::numbers::pi;

// Features of one single-channel window.
std::vector<double> One(WindowFeatureExtractor& ex, const std::vector<double>& x) {
  std::vector<double> out(ex.names().size());
  std::span<const double> ch[] = {x};
  Status s = ex.Compute(ch, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::vector<double> Sine(std::size_t n, double fs, double hz, double amp, double phase = 0,
                         double offset = 0) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = offset + amp * std::sin(2 * kPi * hz * static_cast<double>(i) / fs + phase);
  }
  return x;
}

std::vector<double> Noise(std::size_t n, double sd, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist(0.0, sd);
  std::vector<double> x(n);
  for (double& v : x) v = dist(rng);
  return x;
}

// --- Names and options -----------------------------------------------------

TEST(WindowFeatures, NamesFollowTheDocumentedOrder) {
  FeatureOptions o;
  o.bands = {{0, 200}, {200, 1000.5}};
  auto ex = MakeExtractor(o);
  ASSERT_NE(ex, nullptr);
  const std::vector<std::string> base = {"mean",
                                         "rms",
                                         "rms_ac",
                                         "peak",
                                         "peak_to_peak",
                                         "crest_factor",
                                         "skewness",
                                         "kurtosis",
                                         "peak_freq",
                                         "peak_amp",
                                         "band_energy_0_200",
                                         "band_rms_0_200",
                                         "band_energy_200_1000.5",
                                         "band_rms_200_1000.5"};
  std::vector<std::string> expected;
  for (const char* c : {"ax", "ay", "az"}) {
    for (const auto& b : base) expected.push_back(b + "_" + c);
  }
  EXPECT_EQ(ex->names(), expected);
  EXPECT_EQ(ex->features_per_channel(), base.size());
}

TEST(WindowFeatures, CreateRejectsBadOptions) {
  auto bad = [](auto mutate, const char* what) {
    FeatureOptions o;
    mutate(o);
    auto ex = WindowFeatureExtractor::Create(o);
    EXPECT_FALSE(ex.ok()) << what;
    if (!ex.ok()) {
      EXPECT_TRUE(ex.status().IsInvalidArgument()) << what;
    }
  };
  bad([](FeatureOptions& o) { o.sample_rate_hz = 0; }, "fs 0");
  bad([](FeatureOptions& o) { o.sample_rate_hz = -1; }, "fs < 0");
  bad([](FeatureOptions& o) { o.sample_rate_hz = std::nan(""); }, "fs nan");
  bad([](FeatureOptions& o) { o.window_samples = 3; }, "window 3");
  bad([](FeatureOptions& o) { o.channels.clear(); }, "no channels");
  bad([](FeatureOptions& o) { o.channels = {"ax", "ax"}; }, "duplicate channel");
  bad([](FeatureOptions& o) { o.bands = {{300, 200}}; }, "lo > hi");
  bad([](FeatureOptions& o) { o.bands = {{-1, 200}}; }, "negative lo");
  bad([](FeatureOptions& o) { o.bands = {{0, 12800.5}}; }, "hi > nyquist");
  bad([](FeatureOptions& o) { o.bands = {{0, std::nan("")}}; }, "nan edge");
  FeatureOptions ok;
  ok.bands = {{0, 12800}, {100, 100}};
  EXPECT_TRUE(WindowFeatureExtractor::Create(ok).ok());
}

// --- Golden values from numpy/scipy -----------------------------------------

struct GoldenCase {
  double fs;
  std::size_t n;
};

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, MatchesNumpyAndScipy) {
  const GoldenCase c = GetParam();
  FeatureOptions o;
  o.sample_rate_hz = c.fs;
  o.window_samples = c.n;
  o.channels = {"x"};
  // Edges on exact bin frequencies check the inclusive comparison.
  const double bin = c.fs / static_cast<double>(c.n);
  o.bands = {{0, 200}, {200, 1000}, {bin * 3, bin * 40}, {0, c.fs / 2}};
  auto ex = MakeExtractor(o);
  ASSERT_NE(ex, nullptr);

  std::vector<std::vector<double>> windows;
  windows.push_back(Noise(c.n, 0.5, 1));  // random
  {
    std::vector<double> x = Sine(c.n, c.fs, 157.3, 1.7, 0.3);  // sine + noise
    std::vector<double> e = Noise(c.n, 0.05, 2);
    for (std::size_t i = 0; i < c.n; ++i) x[i] += e[i];
    windows.push_back(x);
  }
  {
    std::vector<double> x = Noise(c.n, 0.1, 3);  // impulsive
    for (std::size_t i = 7; i < c.n; i += c.n / 5) x[i] += 8.0;
    windows.push_back(x);
  }
  {
    std::vector<double> x = Sine(c.n, c.fs, 611, 0.2, 1.0, 5.0);  // offset
    std::vector<double> e = Noise(c.n, 0.01, 4);
    for (std::size_t i = 0; i < c.n; ++i) x[i] += e[i];
    windows.push_back(x);
  }
  windows.push_back(std::vector<double>(c.n, 0.25));  // constant

  std::string error;
  const auto ref = testref::PythonReference(c.fs, o.bands, windows, &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(ref.size(), windows.size());

  for (std::size_t w = 0; w < windows.size(); ++w) {
    const std::vector<double> got = One(*ex, windows[w]);
    ASSERT_EQ(ref[w].size(), got.size());
    // Scale for absolute tolerances: the window's magnitude.
    const double scale = ref[w][1];  // rms
    for (std::size_t i = 0; i < got.size(); ++i) {
      const std::string& name = ex->names()[i];
      const bool spectral = i >= 8;
      double tol;
      if (name.rfind("band_energy", 0) == 0) {
        // Energy scales as N * rms^2.
        tol = 1e-6 * std::fabs(ref[w][i]) + 1e-9 * scale * scale * static_cast<double>(c.n);
      } else if (spectral) {
        tol = 1e-6 * std::fabs(ref[w][i]) + 1e-9 * scale;
      } else if (name.rfind("skewness", 0) == 0 || name.rfind("kurtosis", 0) == 0) {
        tol = 1e-9 * std::fabs(ref[w][i]) + 1e-9;
      } else {
        tol = 1e-9 * std::fabs(ref[w][i]) + 1e-12 * scale;
      }
      EXPECT_NEAR(got[i], ref[w][i], tol) << name << " window " << w << " n " << c.n;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(WindowLengths, GoldenTest,
                         ::testing::Values(GoldenCase{25600, 2560}, GoldenCase{10000, 1000},
                                           GoldenCase{10000, 1001}, GoldenCase{25600, 4096},
                                           GoldenCase{6400, 997}),
                         [](const auto& param_info) {
                           return "n" + std::to_string(param_info.param.n);
                         });

// --- Analytic results --------------------------------------------------------

TEST(WindowFeatures, SineMatchesAnalyticValues) {
  const double amp = 2.5;
  struct Case {
    std::size_t n;
    double fs;
    double hz;
  };
  // Bin-centred tones whose samples hit the crest (n / (4 k) integral).
  for (const Case c : {Case{2560, 25600, 640}, Case{1000, 10000, 500}, Case{4096, 40960, 640}}) {
    FeatureOptions o;
    o.sample_rate_hz = c.fs;
    o.window_samples = c.n;
    o.channels = {"x"};
    o.bands = {{450, 700}, {1000, 2000}};
    auto ex = MakeExtractor(o);
    ASSERT_NE(ex, nullptr);
    const std::size_t n = c.n;
    const std::vector<double> v = One(*ex, Sine(n, c.fs, c.hz, amp));
    SCOPED_TRACE(n);
    EXPECT_NEAR(ValueOf(*ex, v, "mean_x"), 0, 1e-12);
    EXPECT_NEAR(ValueOf(*ex, v, "rms_x"), amp / std::sqrt(2), 1e-12);
    EXPECT_NEAR(ValueOf(*ex, v, "rms_ac_x"), amp / std::sqrt(2), 1e-12);
    EXPECT_NEAR(ValueOf(*ex, v, "peak_x"), amp, 1e-12);
    EXPECT_NEAR(ValueOf(*ex, v, "peak_to_peak_x"), 2 * amp, 1e-12);
    EXPECT_NEAR(ValueOf(*ex, v, "crest_factor_x"), std::sqrt(2), 1e-12);
    EXPECT_NEAR(ValueOf(*ex, v, "skewness_x"), 0, 1e-9);
    EXPECT_NEAR(ValueOf(*ex, v, "kurtosis_x"), 1.5, 1e-9);
    EXPECT_DOUBLE_EQ(ValueOf(*ex, v, "peak_freq_x"), c.hz);
    EXPECT_NEAR(ValueOf(*ex, v, "peak_amp_x"), amp, 1e-9);
    // Band RMS of a sine in band = A/sqrt2 for every N; out of band ~0.
    EXPECT_NEAR(ValueOf(*ex, v, "band_rms_450_700_x"), amp / std::sqrt(2), 1e-9);
    EXPECT_NEAR(ValueOf(*ex, v, "band_rms_1000_2000_x"), 0, 1e-9);
    // Band energy = (N A / 2)^2 for one bin.
    const double e = static_cast<double>(n) * amp / 2;
    EXPECT_NEAR(ValueOf(*ex, v, "band_energy_450_700_x"), e * e, 1e-9 * e * e);
  }
}

TEST(WindowFeatures, NyquistAndDcUseUnitWeight) {
  FeatureOptions o;
  o.sample_rate_hz = 1000;
  o.window_samples = 64;
  o.channels = {"x"};
  o.bands = {{0, 0}, {500, 500}, {0, 500}};
  auto ex = MakeExtractor(o);
  ASSERT_NE(ex, nullptr);
  std::vector<double> x(64);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 1.0 + (i % 2 == 0 ? 0.75 : -0.75);
  const std::vector<double> v = One(*ex, x);
  EXPECT_DOUBLE_EQ(ValueOf(*ex, v, "peak_freq_x"), 500);
  EXPECT_NEAR(ValueOf(*ex, v, "peak_amp_x"), 0.75, 1e-12);
  EXPECT_NEAR(ValueOf(*ex, v, "band_rms_0_0_x"), 1.0, 1e-12);
  EXPECT_NEAR(ValueOf(*ex, v, "band_rms_500_500_x"), 0.75, 1e-12);
  EXPECT_NEAR(ValueOf(*ex, v, "band_rms_0_500_x"), std::sqrt(1.0 + 0.75 * 0.75), 1e-12);
  EXPECT_NEAR(ValueOf(*ex, v, "rms_x"), std::sqrt(1.0 + 0.75 * 0.75), 1e-12);
}

TEST(WindowFeatures, GaussianNoiseHasKurtosisNearThree) {
  FeatureOptions o;
  o.window_samples = 25600;
  o.channels = {"x"};
  auto ex = MakeExtractor(o);
  ASSERT_NE(ex, nullptr);
  const std::vector<double> v = One(*ex, Noise(o.window_samples, 1.0, 42));
  // Standard error of the sample kurtosis is sqrt(24/N) ~ 0.03.
  EXPECT_NEAR(ValueOf(*ex, v, "kurtosis_x"), 3.0, 0.15);
  EXPECT_NEAR(ValueOf(*ex, v, "skewness_x"), 0.0, 0.08);
  EXPECT_NEAR(ValueOf(*ex, v, "rms_x"), 1.0, 0.03);
}

TEST(WindowFeatures, ConstantSignalIsFiniteAndDocumented) {
  FeatureOptions o;
  o.window_samples = 256;
  o.channels = {"x"};
  auto ex = MakeExtractor(o);
  ASSERT_NE(ex, nullptr);
  for (double c : {0.0, -3.0, 1e6}) {
    const std::vector<double> v = One(*ex, std::vector<double>(256, c));
    for (std::size_t i = 0; i < v.size(); ++i) {
      EXPECT_TRUE(std::isfinite(v[i])) << ex->names()[i] << " for constant " << c;
    }
    EXPECT_EQ(ValueOf(*ex, v, "skewness_x"), 0.0);
    EXPECT_EQ(ValueOf(*ex, v, "kurtosis_x"), 0.0);
    EXPECT_DOUBLE_EQ(ValueOf(*ex, v, "crest_factor_x"), c == 0 ? 0.0 : 1.0);
  }
}

// --- Bad input ----------------------------------------------------------------

TEST(WindowFeatures, NanNamesChannelAndSample) {
  FeatureOptions o;
  o.window_samples = 128;
  auto ex = MakeExtractor(o);
  ASSERT_NE(ex, nullptr);
  std::vector<double> ax(128, 0.1), ay(128, 0.2), az(128, 0.3);
  ay[17] = std::numeric_limits<double>::quiet_NaN();
  std::span<const double> ch[] = {ax, ay, az};
  std::vector<double> out(ex->names().size());
  Status s = ex->Compute(ch, out);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("'ay'"));
  EXPECT_THAT(s.message(), HasSubstr("sample 17"));

  ay[17] = 0.2;
  az[127] = -std::numeric_limits<double>::infinity();
  s = ex->Compute(ch, out);
  ASSERT_TRUE(s.IsInvalidArgument());
  EXPECT_THAT(s.message(), HasSubstr("'az'"));
  EXPECT_THAT(s.message(), HasSubstr("sample 127"));
}

// --- Range: windows checked before allocation, bands need a bin, overflow --

TEST(WindowFeatures, WindowAboveTheMaximumIsRefusedBeforeAllocation) {
  for (const std::size_t n :
       {kMaxWindowSamples + 1, std::size_t{100000000000}, std::size_t{4611686018427387904}}) {
    FeatureOptions o;
    o.window_samples = n;
    o.bands = {};
    auto ex = WindowFeatureExtractor::Create(o);
    ASSERT_FALSE(ex.ok()) << n;
    EXPECT_TRUE(ex.status().IsInvalidArgument());
    EXPECT_THAT(ex.status().message(), HasSubstr("above the maximum of 4194304"));
  }
}

TEST(WindowFeatures, BandWithoutFftBinIsAnError) {
  // fs 25600, N 2560: bins every 10 Hz; 100-101 holds bin 100 Hz, 101-109
  // holds none.
  FeatureOptions o;
  o.bands = {{100, 101}, {101, 109}};
  auto ex = WindowFeatureExtractor::Create(o);
  ASSERT_FALSE(ex.ok());
  EXPECT_TRUE(ex.status().IsInvalidArgument());
  EXPECT_THAT(ex.status().message(), HasSubstr("band 2 (101-109 hz): holds no fft bin"));
  EXPECT_THAT(ex.status().message(), HasSubstr("bin width 10 hz"));
  o.bands = {{100, 101}};
  EXPECT_TRUE(WindowFeatureExtractor::Create(o).ok());
}

TEST(WindowFeatures, HugeAndTinySamplesAreScaledExactly) {
  // One spike among N - 1 equal values a: with d = b - a, skewness
  // ((N-1)^2 - 1) / (N sqrt(N-1)) and kurtosis ((N-1)^3 + 1) / (N (N-1)).
  FeatureOptions o;
  o.window_samples = 8;
  o.channels = {"ax"};
  o.bands = {};
  o.set = FeatureSet::kFull;
  auto ex = MakeExtractor(o);
  ASSERT_NE(ex, nullptr);
  std::vector<double> x(8, 1.0);
  x[3] = 1e200;
  const std::vector<double> v = One(*ex, x);
  for (const double f : v) EXPECT_TRUE(std::isfinite(f));
  EXPECT_NEAR(ValueOf(*ex, v, "rms_ax") / (1e200 / std::sqrt(8.0)), 1.0, 1e-12);
  EXPECT_NEAR(ValueOf(*ex, v, "mean_ax") / (1e200 / 8), 1.0, 1e-12);
  EXPECT_NEAR(ValueOf(*ex, v, "kurtosis_ax"), 344.0 / 56.0, 1e-12);
  EXPECT_NEAR(ValueOf(*ex, v, "skewness_ax"), 48.0 / (8 * std::sqrt(7.0)), 1e-12);
  EXPECT_NEAR(ValueOf(*ex, v, "crest_factor_ax"), std::sqrt(8.0), 1e-12);
  // A spike has a flat spectrum: centroid is the mean of the non-DC bins.
  const double centroid = ValueOf(*ex, v, "spectral_centroid_ax");
  EXPECT_NEAR(centroid, (3200 + 6400 + 9600 + 12800) / 4.0, 1e-6);

  // Tiny samples: their fourth powers underflow without scaling.
  const std::vector<double> sine = Sine(2560, 25600, 100, 1e-250);
  FeatureOptions o2;
  o2.channels = {"ax"};
  auto ex2 = MakeExtractor(o2);
  ASSERT_NE(ex2, nullptr);
  const std::vector<double> t = One(*ex2, sine);
  EXPECT_NEAR(ValueOf(*ex2, t, "rms_ax") / (1e-250 / std::sqrt(2.0)), 1.0, 1e-9);
  EXPECT_NEAR(ValueOf(*ex2, t, "kurtosis_ax"), 1.5, 1e-9);
  EXPECT_NEAR(ValueOf(*ex2, t, "band_rms_0_200_ax") / (1e-250 / std::sqrt(2.0)), 1.0, 1e-9);
  EXPECT_DOUBLE_EQ(ValueOf(*ex2, t, "peak_freq_ax"), 100);

  // In the safe range nothing is scaled: bit-identical to the scaled-back
  // result of the same window times 2^-300 (scaling by powers of two is exact).
  const std::vector<double> base = Sine(2560, 25600, 100, 1.0);
  std::vector<double> small(base.size());
  for (std::size_t i = 0; i < base.size(); ++i) small[i] = std::ldexp(base[i], -300);
  const std::vector<double> a = One(*ex2, base);
  const std::vector<double> b = One(*ex2, small);
  EXPECT_EQ(ValueOf(*ex2, a, "kurtosis_ax"), ValueOf(*ex2, b, "kurtosis_ax"));
  EXPECT_EQ(ValueOf(*ex2, a, "rms_ax"), std::ldexp(ValueOf(*ex2, b, "rms_ax"), 300));
}

TEST(WindowFeatures, FeatureBeyondFloat64IsAnErrorNamingIt) {
  // The band energy of 1e200 samples is about 1e400: not representable.
  FeatureOptions o;
  o.window_samples = 8;
  o.channels = {"ax"};
  o.bands = {{0, 200}};
  auto ex = MakeExtractor(o);
  ASSERT_NE(ex, nullptr);
  std::vector<double> x(8, 1.0);
  x[3] = 1e200;
  std::vector<double> out(ex->names().size());
  const std::span<const double> ch[] = {x};
  const Status s = ex->Compute(ch, out);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_THAT(s.message(),
              HasSubstr("channel 'ax': band_energy_0_200 is beyond the float64 range"));
  EXPECT_THAT(s.message(), HasSubstr("1e+200"));
}

TEST(WindowFeatures, WrongSizesAreErrors) {
  FeatureOptions o;
  o.window_samples = 128;
  auto ex = MakeExtractor(o);
  ASSERT_NE(ex, nullptr);
  std::vector<double> ok(128, 0.1), short_window(127, 0.1);
  std::vector<double> out(ex->names().size());
  {
    std::span<const double> ch[] = {ok, short_window, ok};
    Status s = ex->Compute(ch, out);
    ASSERT_TRUE(s.IsInvalidArgument());
    EXPECT_THAT(s.message(), HasSubstr("'ay'"));
    EXPECT_THAT(s.message(), HasSubstr("127"));
  }
  {
    std::span<const double> ch[] = {ok, ok};
    EXPECT_TRUE(ex->Compute(ch, out).IsInvalidArgument());
  }
  {
    std::span<const double> ch[] = {ok, ok, ok};
    std::vector<double> small(out.size() - 1);
    EXPECT_TRUE(ex->Compute(ch, small).IsInvalidArgument());
    EXPECT_TRUE(ex->Compute(ch, out).ok());
  }
}

TEST(WindowFeatures, ChannelsAreIndependentAndContiguous) {
  FeatureOptions o;
  o.window_samples = 512;
  o.channels = {"a", "b"};
  auto ex = MakeExtractor(o);
  FeatureOptions single = o;
  single.channels = {"a"};
  auto one = MakeExtractor(single);
  ASSERT_NE(ex, nullptr);
  ASSERT_NE(one, nullptr);
  std::vector<double> a = Noise(512, 1, 5), b = Sine(512, 25600, 1000, 3);
  std::span<const double> ch[] = {a, b};
  std::vector<double> out(ex->names().size());
  ASSERT_TRUE(ex->Compute(ch, out).ok());
  const std::size_t per = ex->features_per_channel();
  EXPECT_EQ(std::vector<double>(out.begin(), out.begin() + per), One(*one, a));
  EXPECT_EQ(std::vector<double>(out.begin() + per, out.end()), One(*one, b));
}

}  // namespace
}  // namespace mh::features
