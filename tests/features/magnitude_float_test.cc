// The vector magnitude channel (FeatureOptions::magnitude) and float32 input
// (the Compute overload for std::span<const float>): names, option checks,
// analytic values, and numpy/scipy references computed at test time by
// tools/features_reference.py ("magnitude=K" and "float32" modes).
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extractor_helpers.h"
#include "features/window_features.h"
#include "reference.h"

namespace mh::features {
namespace {

using ::testing::HasSubstr;
using testref::MakeExtractor;
using testref::ValueOf;

constexpr double kPi = std::numbers::pi;

std::vector<double> Noise(std::size_t n, double sd, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist(0.0, sd);
  std::vector<double> x(n);
  for (double& v : x) v = dist(rng);
  return x;
}

std::vector<double> Sine(std::size_t n, double fs, double hz, double amp) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i)
    x[i] = amp * std::sin(2 * kPi * hz * static_cast<double>(i) / fs);
  return x;
}

// Features of one multi-channel window (double samples).
std::vector<double> Features(WindowFeatureExtractor& ex,
                             const std::vector<std::vector<double>>& channels) {
  std::vector<std::span<const double>> spans(channels.begin(), channels.end());
  std::vector<double> out(ex.names().size());
  const Status s = ex.Compute(spans, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Features of one multi-channel window (float samples).
std::vector<double> FeaturesF(WindowFeatureExtractor& ex,
                              const std::vector<std::vector<float>>& channels) {
  std::vector<std::span<const float>> spans(channels.begin(), channels.end());
  std::vector<double> out(ex.names().size());
  const Status s = ex.Compute(spans, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Compares one channel's features with the reference row, with the
// tolerances of the golden tests: 1e-9 relative for time-domain features,
// 1e-6 relative for spectral ones (plus small absolute floors).
void ExpectMatchesReference(const WindowFeatureExtractor& ex, std::size_t channel,
                            const std::vector<double>& got, const std::vector<double>& ref,
                            const std::string& what) {
  const std::size_t per = ex.features_per_channel();
  ASSERT_EQ(ref.size(), per) << what;
  const double scale = ref[1];  // rms
  const auto n = static_cast<double>(ex.options().window_samples);
  for (std::size_t i = 0; i < per; ++i) {
    const std::string& name = ex.names()[channel * per + i];
    const double want = ref[i];
    double tol;
    if (name.rfind("band_energy", 0) == 0) {
      tol = 1e-6 * std::fabs(want) + 1e-9 * scale * scale * n;
    } else if (i >= 8) {
      tol = 1e-6 * std::fabs(want) + 1e-9 * scale;
    } else if (name.rfind("skewness", 0) == 0 || name.rfind("kurtosis", 0) == 0) {
      tol = 1e-9 * std::fabs(want) + 1e-9;
    } else {
      tol = 1e-9 * std::fabs(want) + 1e-12 * scale;
    }
    EXPECT_NEAR(got[channel * per + i], want, tol) << name << " " << what;
  }
}

// --- Vector magnitude --------------------------------------------------------

TEST(Magnitude, NamesAndOutputChannels) {
  FeatureOptions o;
  o.bands = {{0, 200}};
  auto plain = MakeExtractor(o);
  o.magnitude = true;
  auto with_mag = MakeExtractor(o);
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(with_mag, nullptr);
  EXPECT_EQ(plain->output_channels(), (std::vector<std::string>{"ax", "ay", "az"}));
  EXPECT_EQ(with_mag->output_channels(), (std::vector<std::string>{"ax", "ay", "az", "mag"}));
  const std::size_t per = plain->features_per_channel();
  EXPECT_EQ(with_mag->features_per_channel(), per);
  ASSERT_EQ(with_mag->names().size(), 4 * per);
  // The input channels' names are unchanged; the magnitude's follow them.
  for (std::size_t i = 0; i < 3 * per; ++i) EXPECT_EQ(with_mag->names()[i], plain->names()[i]);
  EXPECT_EQ(with_mag->names()[3 * per], "mean_mag");
  EXPECT_EQ(with_mag->names()[3 * per + 1], "rms_mag");
  EXPECT_EQ(with_mag->names()[3 * per + 7], "kurtosis_mag");
  EXPECT_EQ(with_mag->names().back(), "band_rms_0_200_mag");
}

TEST(Magnitude, CreateRejectsOneChannelAndANameClash) {
  FeatureOptions o;
  o.magnitude = true;
  o.channels = {"ax"};
  auto one = WindowFeatureExtractor::Create(o);
  ASSERT_FALSE(one.ok());
  EXPECT_TRUE(one.status().IsInvalidArgument());
  EXPECT_THAT(one.status().message(), HasSubstr("at least 2 channels"));
  o.channels = {"ax", "mag"};
  auto clash = WindowFeatureExtractor::Create(o);
  ASSERT_FALSE(clash.ok());
  EXPECT_THAT(clash.status().message(), HasSubstr("'mag'"));
  o.magnitude = false;  // a channel may be called mag when no magnitude is computed
  EXPECT_TRUE(WindowFeatureExtractor::Create(o).ok());
}

TEST(Magnitude, ScaledCopiesOfOneSineAreAnalytic) {
  // ax = 3 s, ay = 4 s, az = 0 with s a sine of amplitude A: the magnitude is
  // 5 |s|, a full-wave rectified sine: rms 5A/sqrt(2), mean 5 * 2A/pi, peak
  // 5A, crest sqrt(2), and its lowest AC line at twice the sine's frequency.
  const double fs = 25600, hz = 100, amp = 1.5;
  const std::size_t n = 2560;  // 10 periods
  FeatureOptions o;
  o.sample_rate_hz = fs;
  o.window_samples = n;
  o.magnitude = true;
  o.bands = {{0, 12800}};
  auto ex = MakeExtractor(o);
  ASSERT_NE(ex, nullptr);
  const std::vector<double> s = Sine(n, fs, hz, amp);
  std::vector<double> ax(n), ay(n), az(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    ax[i] = 3 * s[i];
    ay[i] = 4 * s[i];
  }
  const std::vector<double> v = Features(*ex, {ax, ay, az});
  const double m = 5 * amp;
  EXPECT_NEAR(ValueOf(*ex, v, "rms_mag"), m / std::sqrt(2), 1e-12 * m);
  EXPECT_NEAR(ValueOf(*ex, v, "mean_mag"), m * 2 / kPi, 1e-4 * m);  // sampled |sin|
  EXPECT_NEAR(ValueOf(*ex, v, "peak_mag"), m, 1e-12 * m);
  EXPECT_NEAR(ValueOf(*ex, v, "crest_factor_mag"), std::sqrt(2), 1e-12);
  EXPECT_DOUBLE_EQ(ValueOf(*ex, v, "peak_freq_mag"), 2 * hz);
  // The full band keeps all of the magnitude's power.
  EXPECT_NEAR(ValueOf(*ex, v, "band_rms_0_12800_mag"), m / std::sqrt(2), 1e-12 * m);
  // Input channels are those of a plain extractor, bit for bit.
  o.magnitude = false;
  auto plain = MakeExtractor(o);
  ASSERT_NE(plain, nullptr);
  const std::vector<double> p = Features(*plain, {ax, ay, az});
  for (std::size_t i = 0; i < p.size(); ++i) EXPECT_EQ(v[i], p[i]) << plain->names()[i];
}

TEST(Magnitude, RotatingVectorHasAConstantMagnitude) {
  // ax = A cos, ay = A sin: |(ax, ay)| = A at every sample, up to rounding
  // (a few ulps, so the window is not exactly constant).
  const std::size_t n = 1000;
  const double amp = 0.8;
  FeatureOptions o;
  o.sample_rate_hz = 10000;
  o.window_samples = n;
  o.channels = {"x", "y"};
  o.magnitude = true;
  auto ex = MakeExtractor(o);
  ASSERT_NE(ex, nullptr);
  std::vector<double> x(n), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = amp * std::cos(0.05 * static_cast<double>(i));
    y[i] = amp * std::sin(0.05 * static_cast<double>(i));
  }
  const std::vector<double> v = Features(*ex, {x, y});
  EXPECT_NEAR(ValueOf(*ex, v, "mean_mag"), amp, 1e-14);
  EXPECT_NEAR(ValueOf(*ex, v, "rms_mag"), amp, 1e-14);
  EXPECT_NEAR(ValueOf(*ex, v, "peak_mag"), amp, 1e-14);
  EXPECT_NEAR(ValueOf(*ex, v, "rms_ac_mag"), 0, 1e-14);
  EXPECT_NEAR(ValueOf(*ex, v, "peak_to_peak_mag"), 0, 1e-14);
  EXPECT_NEAR(ValueOf(*ex, v, "peak_amp_mag"), 0, 1e-14);
  // The input channels themselves are sines (about 8 periods, not whole).
  EXPECT_NEAR(ValueOf(*ex, v, "rms_ac_x"), amp / std::sqrt(2), 0.01);
}

TEST(Magnitude, MatchesNumpy) {
  for (const std::size_t n : {std::size_t{2560}, std::size_t{1001}}) {
    const double fs = 25600;
    FeatureOptions o;
    o.sample_rate_hz = fs;
    o.window_samples = n;
    o.magnitude = true;
    o.bands = {{0, 200}, {200, 1000}, {1000, 12800}};
    auto ex = MakeExtractor(o);
    ASSERT_NE(ex, nullptr);
    // Two windows: noise with a DC offset (gravity on az), and tones with an
    // impulsive component.
    std::vector<std::vector<std::vector<double>>> windows;
    windows.push_back({Noise(n, 0.3, 11), Noise(n, 0.2, 12), Noise(n, 0.1, 13)});
    for (double& v : windows[0][2]) v += 1.0;
    {
      std::vector<double> ax = Sine(n, fs, 157.3, 1.1), ay = Sine(n, fs, 611, 0.4),
                          az = Noise(n, 0.05, 14);
      for (std::size_t i = 5; i < n; i += n / 7) ay[i] += 3.0;
      windows.push_back({ax, ay, az});
    }
    std::vector<std::vector<double>> lines;
    for (const auto& w : windows) lines.insert(lines.end(), w.begin(), w.end());
    std::string error;
    const auto ref = testref::PythonReference(fs, o.bands, lines, &error, "magnitude=3");
    ASSERT_TRUE(error.empty()) << error;
    ASSERT_EQ(ref.size(), 4 * windows.size());
    for (std::size_t w = 0; w < windows.size(); ++w) {
      const std::vector<double> got = Features(*ex, windows[w]);
      for (std::size_t c = 0; c < 4; ++c) {
        ExpectMatchesReference(*ex, c, got, ref[4 * w + c],
                               "window " + std::to_string(w) + " n " + std::to_string(n));
      }
    }
  }
}

TEST(Magnitude, HugeSamplesAreScaledNotOverflowed) {
  // 1e200 squared overflows; the magnitude is computed on the channels
  // scaled by a power of two, so it is right: sqrt(1e400 + 1) = 1e200.
  FeatureOptions o;
  o.window_samples = 8;
  o.channels = {"ax", "ay"};
  o.magnitude = true;
  o.bands = {};
  auto ex = MakeExtractor(o);
  ASSERT_NE(ex, nullptr);
  std::vector<double> ax(8, 1.0), ay(8, 1.0);
  ax[5] = 1e200;
  std::vector<double> out(ex->names().size());
  const std::span<const double> ch[] = {ax, ay};
  const Status s = ex->Compute(ch, out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_DOUBLE_EQ(ValueOf(*ex, out, "peak_mag"), 1e200);
  EXPECT_NEAR(ValueOf(*ex, out, "rms_mag") / (1e200 / std::sqrt(8.0)), 1.0, 1e-12);
  // One spike among N - 1 equal values: kurtosis ((N-1)^3 + 1) / (N (N-1)).
  EXPECT_NEAR(ValueOf(*ex, out, "kurtosis_mag"), 344.0 / 56.0, 1e-12);
}

// --- float32 input -------------------------------------------------------------

std::vector<float> ToFloat(const std::vector<double>& x) {
  std::vector<float> f(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) f[i] = static_cast<float>(x[i]);
  return f;
}

std::vector<double> Widen(const std::vector<float>& f) {
  return std::vector<double>(f.begin(), f.end());
}

TEST(Float32Input, EqualsTheUpcastDoublesBitForBit) {
  for (const bool magnitude : {false, true}) {
    FeatureOptions o;
    o.set = FeatureSet::kFull;
    o.magnitude = magnitude;
    o.bands = {{0, 200}, {200, 5000}};
    auto ex = MakeExtractor(o);
    ASSERT_NE(ex, nullptr);
    const std::size_t n = o.window_samples;
    const std::vector<std::vector<float>> f = {ToFloat(Noise(n, 0.5, 21)),
                                               ToFloat(Noise(n, 0.2, 22)),
                                               ToFloat(Sine(n, 25600, 333.3, 0.9))};
    const std::vector<double> from_float = FeaturesF(*ex, f);
    const std::vector<double> from_double = Features(*ex, {Widen(f[0]), Widen(f[1]), Widen(f[2])});
    ASSERT_EQ(from_float.size(), from_double.size());
    EXPECT_EQ(
        std::memcmp(from_float.data(), from_double.data(), from_float.size() * sizeof(double)), 0)
        << "magnitude " << magnitude;
  }
}

TEST(Float32Input, MatchesNumpyOnTheFloat32ArrayUpcast) {
  // The reference rounds the same float64 windows to np.float32 itself and
  // upcasts them: our float32 path must agree to 1e-9 (time domain) / 1e-6.
  const double fs = 10000;
  const std::size_t n = 1000;
  FeatureOptions o;
  o.sample_rate_hz = fs;
  o.window_samples = n;
  o.channels = {"ax", "ay"};
  o.magnitude = true;
  o.bands = {{0, 200}, {200, 5000}};
  auto ex = MakeExtractor(o);
  ASSERT_NE(ex, nullptr);
  // Values with many significant digits, so that float32 rounding matters.
  std::vector<double> ax = Noise(n, 0.37, 31), ay = Sine(n, fs, 123.4, 2.3);
  for (double& v : ay) v += 9.80665;
  std::string error;
  const auto ref = testref::PythonReference(fs, o.bands, {ax, ay}, &error, "magnitude=2 float32");
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(ref.size(), 3u);
  const std::vector<double> got = FeaturesF(*ex, {ToFloat(ax), ToFloat(ay)});
  for (std::size_t c = 0; c < 3; ++c) ExpectMatchesReference(*ex, c, got, ref[c], "float32");
  // And the rounding is visible: float64 input gives different values.
  const std::vector<double> exact = Features(*ex, {ax, ay});
  EXPECT_NE(ValueOf(*ex, exact, "mean_ay"), ValueOf(*ex, got, "mean_ay"));
}

TEST(Float32Input, ErrorsNameChannelAndSample) {
  FeatureOptions o;
  o.window_samples = 16;
  o.channels = {"ax", "ay"};
  auto ex = MakeExtractor(o);
  ASSERT_NE(ex, nullptr);
  std::vector<float> ax(16, 0.5f), ay(16, 0.25f), short_ch(15, 0.0f);
  std::vector<double> out(ex->names().size());
  ay[9] = std::numeric_limits<float>::quiet_NaN();
  {
    const std::span<const float> ch[] = {ax, ay};
    const Status s = ex->Compute(ch, out);
    ASSERT_FALSE(s.ok());
    EXPECT_THAT(s.message(), HasSubstr("channel 'ay': sample 9 is"));
  }
  {
    const std::span<const float> ch[] = {ax, short_ch};
    const Status s = ex->Compute(ch, out);
    ASSERT_FALSE(s.ok());
    EXPECT_THAT(s.message(), HasSubstr("channel 'ay': window has 15 samples, expected 16"));
  }
  {
    const std::span<const float> ch[] = {ax};
    const Status s = ex->Compute(ch, out);
    ASSERT_FALSE(s.ok());
    EXPECT_THAT(s.message(), HasSubstr("expected 2 channels, got 1"));
  }
  {
    ay[9] = 1.0f;
    const std::span<const float> ch[] = {ax, ay};
    std::vector<double> small(3);
    const Status s = ex->Compute(ch, small);
    ASSERT_FALSE(s.ok());
    EXPECT_THAT(s.message(), HasSubstr("output has 3 slots"));
    EXPECT_TRUE(ex->Compute(ch, out).ok());
  }
}

}  // namespace
}  // namespace mh::features
