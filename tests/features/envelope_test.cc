// Envelope analysis (band-pass, Hilbert envelope, envelope spectrum), shaft
// orders and bearing envelope features: against scipy.signal.hilbert, an
// analytic impulse train and the CWRU seeded-fault recordings.
#include "features/envelope.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/strings.h"
#include "features/bearing.h"
#include "features/real_fft.h"
#include "features/spectrum.h"
#include "features/window_features.h"
#include "reference.h"
#include "testing/test_paths.h"
#include "testing/vibration_signals.h"

namespace mh::features {
namespace {

using ::mh::testing::ImpactTrain;
using ::testing::HasSubstr;

constexpr double kPi = std::numbers::pi;

// One batch of windows for tools/features_envelope_reference.py.
struct EnvelopeCase {
  double fs = 0;
  Band band;
  std::vector<std::vector<double>> windows;
};

// Runs tools/features_envelope_reference.py once for all cases; per window
// (cases in order) the envelope and |rfft(e - mean e)|. Empty with *error set
// on failure.
std::vector<std::vector<double>> ScipyEnvelope(const std::vector<EnvelopeCase>& cases,
                                               std::string* error) {
  const std::string dir = mh::testing::MakeTempDir("mh-envelope");
  std::string inputs;
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const std::string input = dir + "/windows" + std::to_string(c) + ".txt";
    std::ofstream f(input);
    f << FormatDouble(cases[c].fs) << " " << cases[c].windows.at(0).size() << " "
      << FormatDouble(cases[c].band.lo_hz) << " " << FormatDouble(cases[c].band.hi_hz) << "\n";
    testref::WriteWindows(cases[c].windows, f);
    inputs += (c ? " " : "") + input;
  }
  std::vector<std::vector<double>> out =
      testref::RunReferenceScript("features_envelope_reference.py", inputs, error);
  std::filesystem::remove_all(dir);
  return out;
}

// Envelope power spectrum of `x` via RealFft + EnvelopeAnalyzer.
struct EnvelopeRun {
  std::vector<double> envelope;
  std::vector<double> magnitude;  // |E_k|
};
EnvelopeRun RunEnvelope(const std::vector<double>& x, double fs, Band band) {
  EnvelopeRun r;
  auto fft = RealFft::Create(x.size());
  auto env = EnvelopeAnalyzer::Create(x.size(), fs, band);
  EXPECT_TRUE(fft.ok() && env.ok());
  if (!fft.ok() || !env.ok()) return r;
  std::vector<std::complex<double>> spec((*fft)->bins());
  (*fft)->Forward(x, spec);
  (*env)->Compute(spec);
  r.envelope.assign((*env)->envelope().begin(), (*env)->envelope().end());
  for (double p : (*env)->power()) r.magnitude.push_back(std::sqrt(p));
  return r;
}

TEST(Envelope, MatchesScipyHilbert) {
  // Impacts on a resonance inside the band, and offset white noise; even and
  // odd N, default and custom bands, a band reaching DC and Nyquist.
  std::vector<EnvelopeCase> cases = {{25600, DefaultEnvelopeBand(25600), {}},
                                     {12000, {500, 3000}, {}},
                                     {48000, {0, 24000}, {}},
                                     {20000, {2000, 10000}, {}}};
  const std::size_t lengths[] = {2560, 1001, 4096, 1000};
  std::mt19937_64 rng(7);
  std::normal_distribution<double> dist(0.0, 1.0);
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const Band b = cases[c].band;
    cases[c].windows.push_back(
        ImpactTrain(lengths[c], cases[c].fs, 107.4, b.lo_hz + 0.4 * (b.hi_hz - b.lo_hz), 0.05, 3));
    std::vector<double> noise(lengths[c]);
    for (double& v : noise) v = 0.3 + dist(rng);
    cases[c].windows.push_back(noise);
  }
  std::string error;
  const auto ref = ScipyEnvelope(cases, &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(ref.size(), 2 * 2 * cases.size());
  std::size_t r = 0;
  for (const EnvelopeCase& c : cases) {
    for (std::size_t w = 0; w < c.windows.size(); ++w, r += 2) {
      SCOPED_TRACE("n=" + std::to_string(c.windows[w].size()) + " window " + std::to_string(w));
      const EnvelopeRun ours = RunEnvelope(c.windows[w], c.fs, c.band);
      const std::vector<double>& env = ref[r];
      const std::vector<double>& mag = ref[r + 1];
      ASSERT_EQ(ours.envelope.size(), env.size());
      ASSERT_EQ(ours.magnitude.size(), mag.size());
      const double env_scale = *std::max_element(env.begin(), env.end());
      const double mag_scale = *std::max_element(mag.begin(), mag.end());
      ASSERT_GT(mag_scale, 0);
      for (std::size_t i = 0; i < env.size(); ++i) {
        ASSERT_NEAR(ours.envelope[i], env[i], 1e-6 * env_scale) << "sample " << i;
      }
      for (std::size_t k = 0; k < mag.size(); ++k) {
        ASSERT_NEAR(ours.magnitude[k], mag[k], 1e-6 * mag_scale) << "bin " << k;
      }
    }
  }
}

TEST(Envelope, ImpulseTrainAtBpfoPeaksAtBpfo) {
  // 6205 at 1797 rpm: BPFO 107.36 Hz. Impacts excite a 4 kHz resonance
  // (inside the default band 1.6-6.4 kHz at 25.6 kHz); noise as large as the
  // impacts' RMS hides them in the raw spectrum's low band.
  const double fs = 25600;
  const std::size_t n = 25600;  // 1 s, 1 Hz bins
  auto geometry = LookupBearing("6205");
  ASSERT_TRUE(geometry.ok());
  auto freq = ComputeBearingFrequencies(*geometry, 1797.0 / 60);
  ASSERT_TRUE(freq.ok());
  const std::vector<double> x = ImpactTrain(n, fs, freq->bpfo_hz, 4000, 0.2, 11);
  const EnvelopeRun r = RunEnvelope(x, fs, DefaultEnvelopeBand(fs));
  ASSERT_EQ(r.magnitude.size(), n / 2 + 1);
  // Largest envelope line between 1 Hz and 500 Hz.
  const std::size_t top = 500;
  const auto best = static_cast<std::size_t>(
      std::max_element(r.magnitude.begin() + 1, r.magnitude.begin() + top + 1) -
      r.magnitude.begin());
  const double df = fs / static_cast<double>(n);
  EXPECT_LE(std::fabs(static_cast<double>(best) * df - freq->bpfo_hz), df)
      << "peak at " << static_cast<double>(best) * df << " hz";

  // The same through the extractor: env_bpfo is the largest env_* feature.
  FeatureOptions o;
  o.sample_rate_hz = fs;
  o.window_samples = n;
  o.channels = {"ax"};
  o.shaft_rpm = 1797;
  o.bearing = *geometry;
  auto ex = WindowFeatureExtractor::Create(o);
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  std::vector<double> out((*ex)->names().size());
  std::span<const double> ch[] = {x};
  ASSERT_TRUE((*ex)->Compute(ch, out).ok());
  const auto& names = (*ex)->names();
  const auto at = [&](const std::string& name) {
    const auto it = std::find(names.begin(), names.end(), name);
    EXPECT_NE(it, names.end()) << name;
    return it == names.end() ? std::nan("") : out[static_cast<std::size_t>(it - names.begin())];
  };
  const double bpfo = at("env_bpfo_ax");
  for (const char* other : {"env_bpfi_ax", "env_bsf_ax", "env_ftf_ax", "env_2bpfi_ax",
                            "env_2bsf_ax", "env_2ftf_ax", "env_2bpfo_ax"}) {
    EXPECT_GT(bpfo, at(other)) << other;
  }
  // Amplitude = SingleSidedAmplitude of the largest bin within +/- 1 bin.
  const double expected =
      std::max({r.magnitude[107], r.magnitude[108], r.magnitude[106]}) * 2 / static_cast<double>(n);
  EXPECT_DOUBLE_EQ(bpfo, expected);
}

TEST(Envelope, CreateRejectsBadBands) {
  EXPECT_TRUE(EnvelopeAnalyzer::Create(2560, 25600, {1000, 2000}).ok());
  EXPECT_FALSE(EnvelopeAnalyzer::Create(2560, 25600, {2000, 1000}).ok());
  EXPECT_FALSE(EnvelopeAnalyzer::Create(2560, 25600, {-1, 1000}).ok());
  EXPECT_FALSE(EnvelopeAnalyzer::Create(2560, 25600, {1000, 13000}).ok());
  EXPECT_FALSE(EnvelopeAnalyzer::Create(2560, 25600, {1001, 1009}).ok());  // no bin inside
  EXPECT_FALSE(EnvelopeAnalyzer::Create(2560, 0, {0, 1}).ok());
  EXPECT_FALSE(EnvelopeAnalyzer::Create(2560, 25600, {0, std::nan("")}).ok());
}

TEST(Orders, AmplitudesAtShaftHarmonics) {
  // fs 25600, N 2560: 10 Hz bins. Shaft 1800 rpm = 30 Hz (bin 3).
  const double fs = 25600;
  const std::size_t n = 2560;
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / fs;
    x[i] = 0.7 + 1.0 * std::sin(2 * kPi * 30 * t) + 0.5 * std::cos(2 * kPi * 60 * t) +
           0.25 * std::sin(2 * kPi * 90 * t + 1) + 2.0 * std::sin(2 * kPi * 1000 * t);
  }
  for (const double rpm : {1800.0, 1790.0, 1810.0}) {  // within one bin of 30 Hz
    FeatureOptions o;
    o.channels = {"ay"};
    o.shaft_rpm = rpm;
    auto ex = WindowFeatureExtractor::Create(o);
    ASSERT_TRUE(ex.ok()) << ex.status().ToString();
    const auto& names = (*ex)->names();
    ASSERT_GE(names.size(), 3u);
    EXPECT_EQ(names[names.size() - 3], "order1x_ay");
    EXPECT_EQ(names[names.size() - 2], "order2x_ay");
    EXPECT_EQ(names[names.size() - 1], "order3x_ay");
    std::vector<double> out(names.size());
    std::span<const double> ch[] = {x};
    ASSERT_TRUE((*ex)->Compute(ch, out).ok());
    EXPECT_NEAR(out[names.size() - 3], 1.0, 1e-12) << rpm;
    EXPECT_NEAR(out[names.size() - 2], 0.5, 1e-12) << rpm;
    EXPECT_NEAR(out[names.size() - 1], 0.25, 1e-12) << rpm;
  }
}

TEST(Orders, OptionValidation) {
  FeatureOptions o;
  o.sample_rate_hz = 100;
  o.window_samples = 100;
  o.bands = {{0, 10}};
  o.shaft_rpm = 1200;  // 20 Hz: 3x = 60 Hz > 50 Hz Nyquist
  auto ex = WindowFeatureExtractor::Create(o);
  ASSERT_FALSE(ex.ok());
  EXPECT_THAT(ex.status().message(), HasSubstr("nyquist"));
  o.shaft_rpm = -5;
  EXPECT_FALSE(WindowFeatureExtractor::Create(o).ok());
  o.shaft_rpm = 0;
  o.bearing = BearingGeometry{9, 0.3126, 1.537, 0};
  ex = WindowFeatureExtractor::Create(o);
  ASSERT_FALSE(ex.ok());  // a bearing needs the speed
  EXPECT_THAT(ex.status().message(), HasSubstr("rpm"));
  o.sample_rate_hz = 25600;
  o.window_samples = 2560;
  o.shaft_rpm = 1797;
  o.envelope_band = Band{3000, 2000};
  EXPECT_FALSE(WindowFeatureExtractor::Create(o).ok());
  o.envelope_band = Band{2000, 3000};
  EXPECT_TRUE(WindowFeatureExtractor::Create(o).ok());
}

TEST(Orders, BinsNearClipsToOneToNyquist) {
  // n = 100, fs = 1000: 10 Hz bins 0..50.
  BinRange r = BinsNear(30, 100, 1000);  // bin 3
  EXPECT_EQ(r.first, 2u);
  EXPECT_EQ(r.last, 5u);
  r = BinsNear(34.9, 100, 1000);  // rounds to bin 3
  EXPECT_EQ(r.first, 2u);
  r = BinsNear(3, 100, 1000);  // bin 0: DC excluded, bins 1..1
  EXPECT_EQ(r.first, 1u);
  EXPECT_EQ(r.last, 2u);
  r = BinsNear(500, 100, 1000);  // Nyquist bin 50: bins 49..50
  EXPECT_EQ(r.first, 49u);
  EXPECT_EQ(r.last, 51u);
  r = BinsNear(510, 100, 1000);  // bin 51 (beyond): only 50 is within one bin
  EXPECT_EQ(r.first, 50u);
  EXPECT_EQ(r.last, 51u);
  r = BinsNear(530, 100, 1000);  // nothing within one bin
  EXPECT_EQ(r.first, r.last);
  // A unit sine at 30 Hz: amplitude 1 at 29..31 Hz requests, 0 far away.
  std::vector<double> x(100);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = std::sin(2 * kPi * 30 * static_cast<double>(i) / 1000);
  auto fft = RealFft::Create(100);
  ASSERT_TRUE(fft.ok());
  std::vector<std::complex<double>> spec((*fft)->bins());
  (*fft)->Forward(x, spec);
  std::vector<double> power(spec.size());
  PowerSpectrum(spec, power);
  EXPECT_NEAR(AmplitudeNear(power, 29, 100, 1000), 1.0, 1e-12);
  EXPECT_NEAR(AmplitudeNear(power, 38, 100, 1000), 1.0, 1e-12);  // bin 4, neighbour 3
  EXPECT_NEAR(AmplitudeNear(power, 60, 100, 1000), 0.0, 1e-12);
}

TEST(PrototypeNames, BandEnergyRenamed) {
  EXPECT_EQ(PrototypeFeatureName("band_energy_0_200_ax"), "bandE0_200_ax");
  EXPECT_EQ(PrototypeFeatureName("band_energy_200_1000.5_az"), "bandE200_1000.5_az");
  EXPECT_EQ(PrototypeFeatureName("rms_ax"), "rms_ax");
  EXPECT_EQ(PrototypeFeatureName("peak_freq_ax"), "peak_freq_ax");
  EXPECT_EQ(PrototypeFeatureName("band_rms_0_200_ax"), "band_rms_0_200_ax");
}

// CWRU drive-end recordings at 1797 rpm, bearing 6205, 1 s windows.
std::vector<double> ReadColumn(const std::string& path) {
  std::ifstream in(path);
  std::vector<double> x;
  std::string line;
  if (!std::getline(in, line)) return x;  // header
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto v = ParseDouble(line);
    EXPECT_TRUE(v.ok()) << path << ": " << line;
    if (!v.ok()) return {};
    x.push_back(*v);
  }
  return x;
}

enum class Expect { kInner, kOuter, kNormal };
struct CwruCase {
  const char* file;
  double fs;
  Expect expect;
};

class CwruEnvelopeTest : public ::testing::TestWithParam<CwruCase> {};

TEST_P(CwruEnvelopeTest, DefectFrequencyIsTheEnvelopePeak) {
  MH_REQUIRE_SHARED_DATA();
  const CwruCase& c = GetParam();
  const std::vector<double> x = ReadColumn(mh::testing::SharedDir() + "/data/cwru/" + c.file);
  const auto n = static_cast<std::size_t>(c.fs);
  ASSERT_GE(x.size(), n);
  FeatureOptions o;
  o.sample_rate_hz = c.fs;
  o.window_samples = n;
  o.channels = {"de"};
  o.shaft_rpm = 1797;
  auto geometry = LookupBearing("6205");
  ASSERT_TRUE(geometry.ok());
  o.bearing = *geometry;
  auto ex = WindowFeatureExtractor::Create(o);
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  const auto& names = (*ex)->names();
  const std::size_t first_env = names.size() - 8;  // env_bpfo .. env_2ftf
  ASSERT_EQ(names[first_env], "env_bpfo_de");
  ASSERT_EQ(names[first_env + 1], "env_bpfi_de");
  std::vector<double> out(names.size());
  auto fft = RealFft::Create(n);
  auto env = EnvelopeAnalyzer::Create(n, c.fs, DefaultEnvelopeBand(c.fs));
  ASSERT_TRUE(fft.ok() && env.ok());
  std::vector<std::complex<double>> spec((*fft)->bins());
  for (std::size_t start = 0; start + n <= x.size(); start += n) {
    SCOPED_TRACE(std::string(c.file) + " window at " + std::to_string(start));
    const std::span<const double> w(x.data() + start, n);
    std::span<const double> ch[] = {w};
    ASSERT_TRUE((*ex)->Compute(ch, out).ok());
    const std::span<const double> env_features(out.data() + first_env, 8);
    const std::size_t largest = static_cast<std::size_t>(
        std::max_element(env_features.begin(), env_features.end()) - env_features.begin());
    // Background: median single-sided amplitude of the envelope spectrum
    // over 5..500 Hz (1 Hz bins).
    (*fft)->Forward(w, spec);
    (*env)->Compute(spec);
    std::vector<double> amps;
    for (std::size_t k = 5; k <= 500; ++k) {
      amps.push_back(SingleSidedAmplitude((*env)->power()[k], k, n));
    }
    std::nth_element(amps.begin(), amps.begin() + amps.size() / 2, amps.end());
    const double median = amps[amps.size() / 2];
    ASSERT_GT(median, 0);
    const double bpfo = env_features[0] / median;
    const double bpfi = env_features[1] / median;
    switch (c.expect) {
      case Expect::kInner:
        EXPECT_EQ(names[first_env + largest], "env_bpfi_de");
        EXPECT_GT(bpfi, 10) << "no clear BPFI line";
        break;
      case Expect::kOuter:
        EXPECT_EQ(names[first_env + largest], "env_bpfo_de");
        EXPECT_GT(bpfo, 10) << "no clear BPFO line";
        break;
      case Expect::kNormal:
        EXPECT_LT(bpfo, 5) << "normal record shows a BPFO line";
        EXPECT_LT(bpfi, 5) << "normal record shows a BPFI line";
        break;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cwru, CwruEnvelopeTest,
    ::testing::Values(CwruCase{"inner_race_007_1797rpm_12k_DE_0-24000.csv", 12000, Expect::kInner},
                      CwruCase{"inner_race_021_1797rpm_12k_DE_0-24000.csv", 12000, Expect::kInner},
                      CwruCase{"inner_race_007_1797rpm_48k_DE_0-48000.csv", 48000, Expect::kInner},
                      CwruCase{"inner_race_021_1797rpm_48k_DE_0-48000.csv", 48000, Expect::kInner},
                      CwruCase{"outer_race_centered_6oclock_007_1797rpm_12k_DE_0-24000.csv", 12000,
                               Expect::kOuter},
                      CwruCase{"outer_race_centered_6oclock_021_1797rpm_12k_DE_0-24000.csv", 12000,
                               Expect::kOuter},
                      CwruCase{"outer_race_centered_6oclock_007_1797rpm_48k_DE_0-48000.csv", 48000,
                               Expect::kOuter},
                      CwruCase{"outer_race_centered_6oclock_021_1797rpm_48k_DE_0-48000.csv", 48000,
                               Expect::kOuter},
                      CwruCase{"normal_1797rpm_48k_DE_0-120000.csv", 48000, Expect::kNormal}));

}  // namespace
}  // namespace mh::features
