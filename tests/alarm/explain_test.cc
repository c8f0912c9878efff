// Explain: deviations with known values and order, std == 0, medians, ISO
// 20816 zone boundaries (from features/velocity.h, not copied), bearing
// evidence rules, the JSON keys, and a synthetic outer-race (and inner-race)
// fault through the real feature extractor against a healthy baseline.
#include "alarm/explain.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "features/bearing.h"
#include "features/velocity.h"
#include "features/window_features.h"
#include "iforest/matrix.h"
#include "score/baseline.h"
#include "testing/vibration_signals.h"

namespace mh::alarm {
namespace {

using ::testing::HasSubstr;

// Training statistics with the fields Explain reads (min and max unused).
score::FeatureStats Stats(std::vector<std::string> names, std::vector<double> mean,
                          std::vector<double> std) {
  score::FeatureStats s;
  s.names = std::move(names);
  s.mean = std::move(mean);
  s.std = std::move(std);
  return s;
}

Result<Explanation> ExplainOne(const std::vector<std::string>& names,
                               const std::vector<double>& row, const score::FeatureStats& baseline,
                               const ExplainOptions& options = {}) {
  const std::vector<std::vector<double>> rows = {row};
  return Explain(names, rows, baseline, options);
}

TEST(Explain, KnownDeviationsGiveKnownOrderAndValues) {
  const score::FeatureStats baseline =
      Stats({"rms_ax", "kurtosis_ay", "peak_ax", "mean_ax", "skewness_ax", "unused_ax"},
            {1, 3, 2, 0, 0, 7}, {0.5, 0.25, 1, 0.125, 0.2, 1});
  // extra_ax has no baseline entry: ignored.
  const std::vector<std::string> names = {"extra_ax", "rms_ax",  "kurtosis_ay",
                                          "peak_ax",  "mean_ax", "skewness_ax"};
  auto e = ExplainOne(names, {99, 2, 5, 1.5, -0.375, 0}, baseline);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->top.size(), 3u);
  EXPECT_EQ(e->top[0].feature, "kurtosis_ay");
  EXPECT_EQ(e->top[0].sd, 8);
  EXPECT_EQ(e->top[0].value, 5);
  EXPECT_EQ(e->top[0].baseline_mean, 3);
  EXPECT_EQ(e->top[0].baseline_std, 0.25);
  EXPECT_FALSE(e->top[0].std_floored);
  EXPECT_EQ(e->top[1].feature, "mean_ax");  // by |sd|: signed -3 before +2
  EXPECT_EQ(e->top[1].sd, -3);
  EXPECT_EQ(e->top[2].feature, "rms_ax");
  EXPECT_EQ(e->top[2].sd, 2);
  EXPECT_FALSE(e->iso.has_value());
  EXPECT_TRUE(e->bearing.empty());
  EXPECT_EQ(e->sentence, "kurtosis_ay +8.0 sd, mean_ax -3.0 sd, rms_ax +2.0 sd");

  ExplainOptions five;
  five.top_features = 10;
  e = ExplainOne(names, {99, 2, 5, 1.5, -0.375, 0}, baseline, five);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->top.size(), 5u);  // every feature in common, no more
  EXPECT_EQ(e->top[3].feature, "peak_ax");
  EXPECT_EQ(e->top[3].sd, -0.5);
  EXPECT_EQ(e->top[4].sd, 0);
}

TEST(Explain, ConstantBaselineFeaturesUseAFloorAndAreFlagged) {
  const score::FeatureStats baseline = Stats({"a", "b", "c"}, {2, 0, 5}, {0, 0, 1});
  ExplainOptions o;
  o.top_features = 3;
  auto e = ExplainOne({"a", "b", "c"}, {2.1, 0, 5}, baseline, o);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->top.size(), 3u);
  // a: floor 1 % of |mean| = 0.02 -> (2.1 - 2) / 0.02 = 5.
  EXPECT_EQ(e->top[0].feature, "a");
  EXPECT_NEAR(e->top[0].sd, 5, 1e-9);
  EXPECT_TRUE(e->top[0].std_floored);
  EXPECT_EQ(e->top[0].baseline_std, 0);
  // b: constant 0 in training and 0 now: no deviation, still finite (ties
  // with c at 0 sd keep the feature order).
  EXPECT_EQ(e->top[1].feature, "b");
  EXPECT_EQ(e->top[1].sd, 0);
  EXPECT_TRUE(e->top[1].std_floored);
  EXPECT_EQ(e->top[2].feature, "c");
  EXPECT_FALSE(e->top[2].std_floored);
  // b moving off a constant 0 uses the absolute floor: finite, huge.
  e = ExplainOne({"a", "b", "c"}, {2, 3e-9, 5}, baseline, o);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->top[0].feature, "b");
  EXPECT_NEAR(e->top[0].sd, 3, 1e-9);
  EXPECT_EQ(e->sentence, "b 3e-09 (constant 0 in training), a +0.0 sd, c +0.0 sd");
  // Values near the float64 limit keep the deviation finite.
  const score::FeatureStats wide = Stats({"x"}, {-1.7e308}, {0});
  e = ExplainOne({"x"}, {1.7e308}, wide);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(std::isfinite(e->top[0].sd));
  EXPECT_GT(e->top[0].sd, 0);
  EXPECT_THAT(ExplanationJson(*e), HasSubstr("\"sd\":1.7976931348623157e+308"));
}

TEST(Explain, ValueOfSeveralWindowsIsTheirMedian) {
  const score::FeatureStats baseline = Stats({"k"}, {0}, {1});
  std::vector<std::vector<double>> rows = {{1}, {100}, {3}};
  auto e = Explain({"k"}, rows, baseline);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->top[0].value, 3);
  rows.push_back({2});
  e = Explain({"k"}, rows, baseline);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->top[0].value, 2.5);
}

TEST(Explain, IsoZoneAtTheBoundariesOfEveryClass) {
  using features::Foundation;
  using features::IsoGroup;
  using features::IsoZone;
  const std::vector<std::string> names = {"velocity_rms_ax", "velocity_rms_ay", "velocity_rms_mag"};
  const score::FeatureStats baseline = Stats(names, {1, 1, 1}, {1, 1, 1});
  for (IsoGroup g : {IsoGroup::kGroup1, IsoGroup::kGroup2}) {
    for (Foundation f : {Foundation::kRigid, Foundation::kFlexible}) {
      const features::IsoBoundaries b = features::Iso20816Boundaries(g, f);
      ExplainOptions o;
      o.iso_group = g;
      o.foundation = f;
      const struct {
        double v;
        IsoZone zone;
      } cases[] = {{b.ab / 2, IsoZone::kA}, {std::nextafter(b.ab, 0), IsoZone::kA},
                   {b.ab, IsoZone::kB},     {std::nextafter(b.bc, 0), IsoZone::kB},
                   {b.bc, IsoZone::kC},     {b.cd, IsoZone::kD},
                   {10 * b.cd, IsoZone::kD}};
      for (const auto& c : cases) {
        // The larger direction counts; the magnitude channel never does.
        auto e = ExplainOne(names, {c.v / 2, c.v, 100 * b.cd}, baseline, o);
        ASSERT_TRUE(e.ok()) << e.status().ToString();
        ASSERT_TRUE(e->iso.has_value());
        EXPECT_EQ(e->iso->feature, "velocity_rms_ay");
        EXPECT_EQ(e->iso->velocity_mm_s, c.v);
        EXPECT_EQ(e->iso->zone, c.zone) << "v " << c.v;
        EXPECT_EQ(e->iso->group, g);
        EXPECT_EQ(e->iso->foundation, f);
        EXPECT_THAT(e->sentence, HasSubstr(std::string("; ISO 20816 zone ") +
                                           features::IsoZoneName(c.zone) + " (velocity_rms_ay"));
      }
    }
  }
  auto e = ExplainOne({"velocity_rms_ax"}, {-1}, Stats({"velocity_rms_ax"}, {1}, {1}));
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("velocity_rms_ax"));
}

// Env features of channels ax and ay with the given deviations (baseline
// mean 1, std 0.5), in kEnvelopeFeatures order per channel.
std::vector<std::string> EnvNames() {
  std::vector<std::string> names;
  for (const char* ch : {"ax", "ay"}) {
    for (std::string_view f : features::kEnvelopeFeatures)
      names.push_back(std::string(f) + "_" + ch);
  }
  return names;
}
Result<Explanation> ExplainEnv(const std::vector<double>& sd, const ExplainOptions& o = {}) {
  const std::vector<std::string> names = EnvNames();
  score::FeatureStats b =
      Stats(names, std::vector<double>(names.size(), 1), std::vector<double>(names.size(), 0.5));
  std::vector<double> row;
  for (double s : sd) row.push_back(1 + 0.5 * s);
  return ExplainOne(names, row, b, o);
}

TEST(Explain, BearingDefectThatStandsOut) {
  // ay's BPFI line at +6 sd is the strongest fundamental; BPFO at most +2.
  //                        bpfo bpfi bsf ftf 2bpfo 2bpfi 2bsf 2ftf
  auto e = ExplainEnv({/*ax*/ 2, 1, 0, -1, 0, 3, 0, 0, /*ay*/ 1, 6, 0, 0, 1, 4, 1, 0});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->bearing.size(), 4u);
  EXPECT_EQ(e->bearing[0].defect, BearingDefect::kBpfi);
  EXPECT_EQ(e->bearing[0].strongest.feature, "env_bpfi_ay");
  EXPECT_EQ(e->bearing[0].strongest.sd, 6);
  ASSERT_TRUE(e->bearing[0].harmonic.has_value());
  EXPECT_EQ(e->bearing[0].harmonic->feature, "env_2bpfi_ay");
  EXPECT_EQ(e->bearing[0].harmonic->sd, 4);
  EXPECT_EQ(e->bearing[1].defect, BearingDefect::kBpfo);
  EXPECT_EQ(e->bearing[1].strongest.sd, 2);
  EXPECT_EQ(e->bearing[2].defect, BearingDefect::kBsf);
  EXPECT_EQ(e->bearing[3].defect, BearingDefect::kFtf);
  EXPECT_EQ(e->bearing[3].strongest.sd, 0);
  ASSERT_TRUE(e->standing_out.has_value());
  EXPECT_EQ(*e->standing_out, BearingDefect::kBpfi);
  EXPECT_EQ(e->sentence,
            "env_bpfi_ay +6.0 sd, env_2bpfi_ay +4.0 sd, env_2bpfi_ax +3.0 sd; BPFI stands out in "
            "the envelope spectrum (+6.0 sd)");
}

// A 2x line alone does not rank its defect: 2 x BPFI of the 6205 is within
// 0.7 % of 3 x BPFO, so an outer-race fault raises env_2bpfi as well.
TEST(Explain, HarmonicLineAloneDoesNotRankADefect) {
  //                        bpfo bpfi bsf ftf 2bpfo 2bpfi 2bsf 2ftf
  auto e = ExplainEnv({/*ax*/ 9, 1, 1, 1, 7, 8, 0, 0, /*ay*/ 0, 0, 0, 0, 0, 0, 0, 0});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_TRUE(e->standing_out.has_value());
  EXPECT_EQ(*e->standing_out, BearingDefect::kBpfo);
  EXPECT_EQ(e->bearing[1].strongest.sd, 1);
  EXPECT_EQ(e->bearing[1].harmonic->sd, 8);
  const auto j = nlohmann::json::parse(ExplanationJson(*e));
  EXPECT_EQ(j["bearing"]["defects"][0]["harmonic"]["feature"], "env_2bpfo_ax");
  e = ExplainEnv({0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->standing_out.has_value());
}

TEST(Explain, NoBearingDefectStandsOutWhenWeakOrAmbiguous) {
  // +5 against +4: within the ratio 1.5.
  auto e = ExplainEnv({5, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->standing_out.has_value());
  EXPECT_THAT(e->sentence, HasSubstr("; no bearing defect frequency stands out"));
  // +2.9 alone: below 3 sd.
  e = ExplainEnv({0, 0, 2.9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->standing_out.has_value());
  // +3 alone with the others below the baseline: stands out.
  e = ExplainEnv({-1, -2, 0, 3, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1});
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->standing_out.has_value());
  EXPECT_EQ(*e->standing_out, BearingDefect::kFtf);
  // Options move the rule.
  ExplainOptions strict;
  strict.bearing_min_sd = 4;
  e = ExplainEnv({-1, -2, 0, 3, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}, strict);
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->standing_out.has_value());
}

TEST(Explain, JsonHasStableKeys) {
  const std::vector<std::string> names = {"kurtosis_ay", "env_bpfo_ay", "velocity_rms_ay"};
  const score::FeatureStats b = Stats(names, {3, 0.01, 4}, {0.5, 0.002, 1});
  auto e = ExplainOne(names, {7.05, 0.0204, 5.1}, b);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->sentence,
            "kurtosis_ay +8.1 sd, env_bpfo_ay +5.2 sd, velocity_rms_ay +1.1 sd; BPFO stands out in "
            "the envelope spectrum (+5.2 sd); ISO 20816 zone D (velocity_rms_ay 5.10 mm/s, group 2 "
            "rigid)");
  const std::string text = ExplanationJson(*e);
  const auto j = nlohmann::ordered_json::parse(text);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"sentence", "top_features", "iso20816", "bearing"}));
  EXPECT_EQ(j["sentence"], e->sentence);
  ASSERT_EQ(j["top_features"].size(), 3u);
  std::vector<std::string> dev_keys;
  for (const auto& [k, v] : j["top_features"][0].items()) dev_keys.push_back(k);
  EXPECT_EQ(dev_keys, (std::vector<std::string>{"feature", "value", "baseline_mean", "baseline_std",
                                                "sd", "std_floored"}));
  EXPECT_EQ(j["top_features"][0]["feature"], "kurtosis_ay");
  EXPECT_EQ(j["top_features"][0]["sd"].get<double>(), e->top[0].sd);
  EXPECT_EQ(j["top_features"][0]["std_floored"], false);
  EXPECT_EQ(j["iso20816"]["feature"], "velocity_rms_ay");
  EXPECT_EQ(j["iso20816"]["velocity_mm_s"].get<double>(), 5.1);
  EXPECT_EQ(j["iso20816"]["zone"], "D");
  EXPECT_EQ(j["iso20816"]["group"], 2);
  EXPECT_EQ(j["iso20816"]["foundation"], "rigid");
  std::vector<std::string> bearing_keys;
  for (const auto& [k, v] : j["bearing"].items()) bearing_keys.push_back(k);
  EXPECT_EQ(bearing_keys,
            (std::vector<std::string>{"available", "standing_out", "defects", "unavailable"}));
  EXPECT_EQ(j["bearing"]["available"], true);
  EXPECT_TRUE(j["bearing"]["unavailable"].is_null());
  EXPECT_EQ(j["bearing"]["standing_out"], "BPFO");
  ASSERT_EQ(j["bearing"]["defects"].size(), 1u);  // only env_bpfo is present
  EXPECT_EQ(j["bearing"]["defects"][0]["defect"], "BPFO");
  EXPECT_EQ(j["bearing"]["defects"][0]["evidence"]["feature"], "env_bpfo_ay");

  // Without velocity and envelope features: null and not available.
  e = ExplainOne({"kurtosis_ay"}, {3}, Stats({"kurtosis_ay"}, {3}, {1}));
  ASSERT_TRUE(e.ok());
  const auto k = nlohmann::json::parse(ExplanationJson(*e));
  EXPECT_TRUE(k["iso20816"].is_null());
  EXPECT_EQ(k["bearing"]["available"], false);
  EXPECT_TRUE(k["bearing"]["standing_out"].is_null());
  EXPECT_TRUE(k["bearing"]["defects"].empty());
  EXPECT_EQ(k["bearing"]["unavailable"], kNoEnvelopeFeatures);
  EXPECT_EQ(k["sentence"], "kurtosis_ay +0.0 sd");
}

// Envelope features in the windows but not in the baseline (a baseline
// stored before it kept their statistics): the evidence is unavailable,
// and says so, rather than "no defect stands out".
TEST(Explain, EnvelopeFeaturesWithoutBaselineStatisticsAreUnavailable) {
  const std::vector<std::string> names = {"kurtosis_ay", "env_bpfo_ay", "env_bpfi_ay"};
  auto e = ExplainOne(names, {7.05, 0.5, 0.01}, Stats({"kurtosis_ay"}, {3}, {0.5}));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->bearing.empty());
  EXPECT_FALSE(e->standing_out.has_value());
  EXPECT_EQ(e->bearing_unavailable, kNoEnvelopeStatistics);
  EXPECT_EQ(e->sentence, std::string("kurtosis_ay +8.1 sd; bearing evidence unavailable (") +
                             kNoEnvelopeStatistics + ")");
  const auto j = nlohmann::json::parse(ExplanationJson(*e));
  EXPECT_EQ(j["bearing"]["available"], false);
  EXPECT_TRUE(j["bearing"]["standing_out"].is_null());
  EXPECT_EQ(j["bearing"]["unavailable"], kNoEnvelopeStatistics);
}

TEST(Explain, RejectsBadInputNamingIt) {
  const score::FeatureStats b = Stats({"a", "b"}, {0, 0}, {1, 1});
  const auto message = [](const Result<Explanation>& r) {
    EXPECT_FALSE(r.ok());
    if (r.ok()) return std::string();
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    return r.status().message();
  };
  const std::vector<std::vector<double>> none;
  EXPECT_THAT(message(Explain({"a"}, none, b)), HasSubstr("no windows"));
  EXPECT_THAT(message(ExplainOne({"a", "b"}, {1}, b)), HasSubstr("row 0 has 1 values for 2"));
  EXPECT_THAT(message(ExplainOne({"a", "b"}, {1, std::nan("")}, b)),
              HasSubstr("row 0: feature 'b' is not finite"));
  EXPECT_THAT(message(ExplainOne({"a", "a"}, {1, 1}, b)), HasSubstr("feature 'a' twice"));
  EXPECT_THAT(message(ExplainOne({"c"}, {1}, b)), HasSubstr("none of the 1 features"));
  EXPECT_THAT(message(ExplainOne({"a"}, {1}, score::FeatureStats{})),
              HasSubstr("the baseline has no feature statistics"));
  EXPECT_THAT(message(ExplainOne({"a"}, {1}, Stats({"a"}, {0}, {}))),
              HasSubstr("1 names, 1 means and 0"));
  EXPECT_THAT(message(ExplainOne({"a"}, {1}, Stats({"a", "a"}, {0, 0}, {1, 1}))),
              HasSubstr("baseline: feature 'a' twice"));
  EXPECT_THAT(message(ExplainOne({"a"}, {1}, Stats({"a"}, {0}, {-1}))),
              HasSubstr("feature 'a': std -1 is not a finite number >= 0"));
  EXPECT_THAT(message(ExplainOne({"a"}, {1}, Stats({"a"}, {INFINITY}, {1}))),
              HasSubstr("mean is not finite"));
  ExplainOptions o;
  o.top_features = 0;
  EXPECT_THAT(message(ExplainOne({"a"}, {1}, b, o)), HasSubstr("top_features (0)"));
  o = {};
  o.bearing_ratio = 0.5;
  EXPECT_THAT(message(ExplainOne({"a"}, {1}, b, o)), HasSubstr("bearing_ratio"));
  o = {};
  o.std_floor_absolute = 0;
  EXPECT_THAT(message(ExplainOne({"a"}, {1}, b, o)), HasSubstr("std_floor_absolute"));
}

// ---- Through the real feature extractor ----

constexpr double kFs = 25600;
constexpr std::size_t kN = 25600;  // 1 s windows, 1 Hz bins
constexpr double kRpm = 1797;

// A healthy machine: shaft line at 1x plus broadband noise.
std::vector<double> Healthy(unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.2);
  std::vector<double> x(kN);
  for (std::size_t i = 0; i < kN; ++i) {
    x[i] = 0.05 * std::sin(2 * std::numbers::pi * kRpm / 60 * static_cast<double>(i) / kFs) +
           noise(rng);
  }
  return x;
}

class ExplainFeatures : public ::testing::Test {
 protected:
  void SetUp() override {
    features::FeatureOptions o;
    o.sample_rate_hz = kFs;
    o.window_samples = kN;
    o.channels = {"ax"};
    o.set = features::FeatureSet::kFull;
    o.shaft_rpm = kRpm;
    auto geometry = features::LookupBearing("6205");
    ASSERT_TRUE(geometry.ok());
    o.bearing = *geometry;
    auto freq = features::ComputeBearingFrequencies(*geometry, kRpm / 60);
    ASSERT_TRUE(freq.ok());
    freq_ = *freq;
    auto ex = features::WindowFeatureExtractor::Create(o);
    ASSERT_TRUE(ex.ok()) << ex.status().ToString();
    extractor_ = std::move(ex).value();
    // Baseline: the score stage's statistics of 30 healthy windows.
    iforest::Matrix rows;
    rows.cols = extractor_->names().size();
    for (unsigned s = 0; s < 30; ++s) {
      const std::vector<double> f = Features(Healthy(100 + s));
      rows.data.insert(rows.data.end(), f.begin(), f.end());
      ++rows.rows;
    }
    baseline_ = score::ComputeFeatureStats(rows, extractor_->names());
  }

  std::vector<double> Features(const std::vector<double>& x) {
    std::vector<double> out(extractor_->names().size());
    std::span<const double> ch[] = {x};
    EXPECT_TRUE(extractor_->Compute(ch, out).ok());
    return out;
  }

  // A healthy window with impacts at `impact_hz` ringing a 4 kHz resonance.
  std::vector<double> Faulty(double impact_hz, unsigned seed) {
    std::vector<double> x = Healthy(seed);
    const std::vector<double> impacts = mh::testing::ImpactTrain(kN, kFs, impact_hz, 4000, 0, 1);
    for (std::size_t i = 0; i < kN; ++i) x[i] += 0.5 * impacts[i];
    return x;
  }

  Explanation ExplainWindow(const std::vector<double>& x) {
    const std::vector<std::vector<double>> rows = {Features(x)};
    auto e = Explain(extractor_->names(), rows, baseline_);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? *e : Explanation{};
  }

  std::unique_ptr<features::WindowFeatureExtractor> extractor_;
  features::BearingFrequencies freq_;
  score::FeatureStats baseline_;
};

TEST_F(ExplainFeatures, OuterRaceFaultShowsBpfo) {
  const Explanation e = ExplainWindow(Faulty(freq_.bpfo_hz, 7));
  ASSERT_EQ(e.bearing.size(), 4u);
  ASSERT_TRUE(e.standing_out.has_value()) << e.sentence;
  EXPECT_EQ(*e.standing_out, BearingDefect::kBpfo) << e.sentence;
  EXPECT_GT(e.bearing[0].strongest.sd, 10) << e.sentence;
  EXPECT_THAT(e.sentence, HasSubstr("BPFO stands out in the envelope spectrum"));
  // The spectral peak moved from the shaft line, constant in training, to
  // the resonance; the sentence gives both values rather than a ratio to
  // the std floor.
  EXPECT_EQ(e.top[0].feature, "peak_freq_ax");
  EXPECT_TRUE(e.top[0].std_floored);
  EXPECT_NEAR(e.top[0].value, 4000, 250);
  EXPECT_EQ(e.top[0].baseline_mean, 30);  // 1797 rpm = 29.95 Hz, in the 30 Hz bin
  EXPECT_THAT(e.sentence, HasSubstr("peak_freq_ax " + std::to_string(int(e.top[0].value)) +
                                    " (constant 30 in training)"));
  // The velocity zone is that of the window's own velocity_rms.
  ASSERT_TRUE(e.iso.has_value());
  EXPECT_EQ(e.iso->feature, "velocity_rms_ax");
  auto zone = features::Iso20816Zone(e.iso->velocity_mm_s, features::IsoGroup::kGroup2,
                                     features::Foundation::kRigid);
  ASSERT_TRUE(zone.ok());
  EXPECT_EQ(e.iso->zone, *zone);
}

TEST_F(ExplainFeatures, InnerRaceFaultShowsBpfi) {
  const Explanation e = ExplainWindow(Faulty(freq_.bpfi_hz, 8));
  ASSERT_TRUE(e.standing_out.has_value()) << e.sentence;
  EXPECT_EQ(*e.standing_out, BearingDefect::kBpfi) << e.sentence;
}

TEST_F(ExplainFeatures, HealthyWindowShowsNoDefect) {
  const Explanation e = ExplainWindow(Healthy(999));
  ASSERT_EQ(e.bearing.size(), 4u);
  EXPECT_FALSE(e.standing_out.has_value()) << e.sentence;
  EXPECT_LT(std::fabs(e.top[0].sd), 5) << e.sentence;
  // 0.05 g at 1x (30 Hz) is about 1.8 mm/s: zone B of group 2 rigid.
  ASSERT_TRUE(e.iso.has_value());
  EXPECT_EQ(e.iso->zone, features::IsoZone::kB) << e.iso->velocity_mm_s;
}

}  // namespace
}  // namespace mh::alarm
