#include "alarm/explain.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <limits>
#include <numeric>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/strings.h"
#include "features/window_features.h"

namespace mh::alarm {
namespace {

constexpr std::size_t kMaxTopFeatures = 100;

std::string Quote(std::string_view name) { return QuoteForMessage(name); }

Status CheckOptions(const ExplainOptions& o) {
  if (o.top_features < 1 || o.top_features > kMaxTopFeatures) {
    return Status::InvalidArgument("explain: top_features (" + std::to_string(o.top_features) +
                                   ") must be in 1..100");
  }
  if (!(o.std_floor_relative >= 0) || !std::isfinite(o.std_floor_relative)) {
    return Status::InvalidArgument("explain: std_floor_relative must be finite and >= 0");
  }
  if (!(o.std_floor_absolute > 0) || !std::isfinite(o.std_floor_absolute)) {
    return Status::InvalidArgument("explain: std_floor_absolute must be finite and > 0");
  }
  if (!std::isfinite(o.bearing_min_sd)) {
    return Status::InvalidArgument("explain: bearing_min_sd must be finite");
  }
  if (!(o.bearing_ratio >= 1) || !std::isfinite(o.bearing_ratio)) {
    return Status::InvalidArgument("explain: bearing_ratio must be finite and >= 1");
  }
  return Status::OK();
}

Status CheckBaseline(const score::FeatureStats& b,
                     std::unordered_map<std::string_view, std::size_t>* index) {
  if (b.names.empty()) {
    return Status::InvalidArgument(
        "explain: the baseline has no feature statistics (an assigned model has none)");
  }
  if (b.mean.size() != b.names.size() || b.std.size() != b.names.size()) {
    return Status::InvalidArgument("explain: baseline has " + std::to_string(b.names.size()) +
                                   " names, " + std::to_string(b.mean.size()) + " means and " +
                                   std::to_string(b.std.size()) + " stds");
  }
  for (std::size_t i = 0; i < b.names.size(); ++i) {
    const std::string& name = b.names[i];
    if (!index->emplace(name, i).second) {
      return Status::InvalidArgument("explain: baseline: feature " + Quote(name) + " twice");
    }
    if (!std::isfinite(b.mean[i])) {
      return Status::InvalidArgument("explain: baseline: feature " + Quote(name) +
                                     ": mean is not finite");
    }
    if (!(b.std[i] >= 0) || !std::isfinite(b.std[i])) {
      return Status::InvalidArgument("explain: baseline: feature " + Quote(name) + ": std " +
                                     FormatDouble(b.std[i]) + " is not a finite number >= 0");
    }
  }
  return Status::OK();
}

// Median of column `c` of `rows`.
double Median(std::span<const std::vector<double>> rows, std::size_t c,
              std::vector<double>* scratch) {
  scratch->clear();
  for (const auto& r : rows) scratch->push_back(r[c]);
  const std::size_t mid = scratch->size() / 2;
  std::nth_element(scratch->begin(), scratch->begin() + static_cast<std::ptrdiff_t>(mid),
                   scratch->end());
  const double upper = (*scratch)[mid];
  if (scratch->size() % 2 == 1) return upper;
  const double lower =
      *std::max_element(scratch->begin(), scratch->begin() + static_cast<std::ptrdiff_t>(mid));
  return lower + (upper - lower) / 2;
}

FeatureDeviation Deviate(const std::string& name, double value, double mean, double std,
                         const ExplainOptions& o) {
  FeatureDeviation d;
  d.feature = name;
  d.value = value;
  d.baseline_mean = mean;
  d.baseline_std = std;
  const double floor = std::max(o.std_floor_relative * std::fabs(mean), o.std_floor_absolute);
  double scale = std;
  if (scale < floor) {
    scale = floor;
    d.std_floored = true;
  }
  // value - mean may overflow for values near the float64 limit: keep the
  // deviation finite (JSON has no infinity).
  constexpr double kMax = std::numeric_limits<double>::max();
  d.sd = std::clamp((value - mean) / scale, -kMax, kMax);
  return d;
}

// The channel of `name` when it is "<prefix>_<channel>", else "".
std::string_view ChannelOf(std::string_view name, std::string_view prefix) {
  if (name.size() <= prefix.size() + 1 || name.substr(0, prefix.size()) != prefix ||
      name[prefix.size()] != '_') {
    return {};
  }
  return name.substr(prefix.size() + 1);
}

std::string Signed1(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.1f", v);
  return buf;
}

std::string General4(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

const char* FoundationName(features::Foundation f) {
  return f == features::Foundation::kFlexible ? "flexible" : "rigid";
}

void AppendDeviationJson(const FeatureDeviation& d, std::string* j) {
  *j += "{\"feature\":";
  AppendJsonString(d.feature, j);
  *j += ",\"value\":";
  AppendJsonNumber(d.value, j);
  *j += ",\"baseline_mean\":";
  AppendJsonNumber(d.baseline_mean, j);
  *j += ",\"baseline_std\":";
  AppendJsonNumber(d.baseline_std, j);
  *j += ",\"sd\":";
  AppendJsonNumber(d.sd, j);
  *j += ",\"std_floored\":";
  *j += d.std_floored ? "true" : "false";
  *j += '}';
}

}  // namespace

const char* BearingDefectName(BearingDefect defect) {
  switch (defect) {
    case BearingDefect::kBpfo:
      return "BPFO";
    case BearingDefect::kBpfi:
      return "BPFI";
    case BearingDefect::kBsf:
      return "BSF";
    case BearingDefect::kFtf:
      return "FTF";
  }
  return "?";
}

Result<Explanation> Explain(const std::vector<std::string>& names,
                            std::span<const std::vector<double>> rows,
                            const score::FeatureStats& baseline, const ExplainOptions& options) {
  MH_RETURN_IF_ERROR(CheckOptions(options));
  std::unordered_map<std::string_view, std::size_t> base_index;
  MH_RETURN_IF_ERROR(CheckBaseline(baseline, &base_index));
  if (rows.empty()) return Status::InvalidArgument("explain: no windows");
  {
    std::unordered_map<std::string_view, std::size_t> seen;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (!seen.emplace(names[i], i).second) {
        return Status::InvalidArgument("explain: feature " + Quote(names[i]) + " twice");
      }
    }
  }
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() != names.size()) {
      return Status::InvalidArgument("explain: row " + std::to_string(r) + " has " +
                                     std::to_string(rows[r].size()) + " values for " +
                                     std::to_string(names.size()) + " features");
    }
    for (std::size_t c = 0; c < names.size(); ++c) {
      if (!std::isfinite(rows[r][c])) {
        return Status::InvalidArgument("explain: row " + std::to_string(r) + ": feature " +
                                       Quote(names[c]) + " is not finite");
      }
    }
  }

  // The alarm's value of every feature, and its deviation where the
  // baseline knows it (index into `deviations`, or npos).
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::vector<double> value(names.size());
  std::vector<double> scratch;
  std::vector<FeatureDeviation> deviations;
  std::vector<std::size_t> deviation_of(names.size(), kNone);
  for (std::size_t c = 0; c < names.size(); ++c) {
    value[c] = Median(rows, c, &scratch);
    const auto it = base_index.find(names[c]);
    if (it == base_index.end()) continue;
    deviation_of[c] = deviations.size();
    deviations.push_back(
        Deviate(names[c], value[c], baseline.mean[it->second], baseline.std[it->second], options));
  }
  if (deviations.empty()) {
    return Status::InvalidArgument("explain: none of the " + std::to_string(names.size()) +
                                   " features is in the baseline");
  }

  Explanation e;
  std::vector<std::size_t> order(deviations.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::fabs(deviations[a].sd) > std::fabs(deviations[b].sd);
  });
  for (std::size_t i = 0; i < order.size() && i < options.top_features; ++i) {
    e.top.push_back(deviations[order[i]]);
  }

  // ISO 20816: the largest velocity of a measurement direction.
  for (std::size_t c = 0; c < names.size(); ++c) {
    const std::string_view channel = ChannelOf(names[c], features::kVelocityRmsFeature);
    if (channel.empty() || channel == features::kMagnitudeChannel) continue;
    if (e.iso && value[c] <= e.iso->velocity_mm_s) continue;
    auto zone = features::Iso20816Zone(value[c], options.iso_group, options.foundation);
    if (!zone.ok()) return zone.status().WithContext("explain: feature " + Quote(names[c]));
    e.iso = IsoEvidence{names[c], value[c], *zone, options.iso_group, options.foundation};
  }

  // Bearing defects: kEnvelopeFeatures lists the four defects, then twice
  // each, in BearingDefect order. A defect is ranked by its fundamental
  // line; the 2x line is reported beside it but does not rank, since it can
  // be another defect's harmonic (for the 6205, 2 x BPFI = 10.83 orders is
  // within 0.7 % of 3 x BPFO = 10.76: an outer-race fault raises env_2bpfi
  // nearly as much as env_bpfo).
  constexpr std::size_t kDefects = 4;
  static_assert(std::size(features::kEnvelopeFeatures) == 2 * kDefects);
  std::optional<FeatureDeviation> strongest[kDefects], harmonic[kDefects];
  for (std::size_t c = 0; c < names.size(); ++c) {
    if (deviation_of[c] == kNone) continue;
    for (std::size_t f = 0; f < 2 * kDefects; ++f) {
      if (ChannelOf(names[c], features::kEnvelopeFeatures[f]).empty()) continue;
      std::optional<FeatureDeviation>& best = f < kDefects ? strongest[f] : harmonic[f % kDefects];
      const FeatureDeviation& d = deviations[deviation_of[c]];
      if (!best || d.sd > best->sd) best = d;
    }
  }
  for (std::size_t d = 0; d < kDefects; ++d) {
    if (strongest[d]) {
      e.bearing.push_back({static_cast<BearingDefect>(d), *strongest[d], harmonic[d]});
    }
  }
  if (e.bearing.empty()) {
    const bool has_envelope = std::any_of(names.begin(), names.end(), [](const std::string& n) {
      return features::IsEnvelopeFeature(n);
    });
    e.bearing_unavailable = has_envelope ? kNoEnvelopeStatistics : kNoEnvelopeFeatures;
  }
  std::stable_sort(e.bearing.begin(), e.bearing.end(),
                   [](const DefectEvidence& a, const DefectEvidence& b) {
                     return a.strongest.sd > b.strongest.sd;
                   });
  if (!e.bearing.empty()) {
    const double top = e.bearing[0].strongest.sd;
    const double next = e.bearing.size() > 1 ? e.bearing[1].strongest.sd : 0;
    if (top >= options.bearing_min_sd && (next <= 0 || top >= options.bearing_ratio * next)) {
      e.standing_out = e.bearing[0].defect;
    }
  }

  // The sentence.
  for (std::size_t i = 0; i < e.top.size(); ++i) {
    if (i > 0) e.sentence += ", ";
    const FeatureDeviation& d = e.top[i];
    if (d.std_floored && d.sd != 0) {
      // A feature constant in training: its sd is a ratio to the floor,
      // which says less to a reader than the two values.
      e.sentence += d.feature + " " + General4(d.value) + " (constant " +
                    General4(d.baseline_mean) + " in training)";
    } else {
      e.sentence += d.feature + " " + Signed1(d.sd) + " sd";
    }
  }
  if (!e.bearing.empty()) {
    if (e.standing_out) {
      e.sentence += std::string("; ") + BearingDefectName(*e.standing_out) +
                    " stands out in the envelope spectrum (" + Signed1(e.bearing[0].strongest.sd) +
                    " sd)";
    } else {
      e.sentence += "; no bearing defect frequency stands out";
    }
  } else if (e.bearing_unavailable == kNoEnvelopeStatistics) {
    e.sentence += std::string("; bearing evidence unavailable (") + kNoEnvelopeStatistics + ")";
  }
  if (e.iso) {
    char v[64];
    std::snprintf(v, sizeof v, "%.2f", e.iso->velocity_mm_s);
    e.sentence += std::string("; ISO 20816 zone ") + features::IsoZoneName(e.iso->zone) + " (" +
                  e.iso->feature + " " + v + " mm/s, group " +
                  std::to_string(static_cast<int>(e.iso->group)) + " " +
                  FoundationName(e.iso->foundation) + ")";
  }
  return e;
}

std::string ExplanationJson(const Explanation& e) {
  std::string j = "{\"sentence\":";
  AppendJsonString(e.sentence, &j);
  j += ",\"top_features\":[";
  for (std::size_t i = 0; i < e.top.size(); ++i) {
    if (i > 0) j += ',';
    AppendDeviationJson(e.top[i], &j);
  }
  j += "],\"iso20816\":";
  if (!e.iso) {
    j += "null";
  } else {
    j += "{\"feature\":";
    AppendJsonString(e.iso->feature, &j);
    j += ",\"velocity_mm_s\":";
    AppendJsonNumber(e.iso->velocity_mm_s, &j);
    j += ",\"zone\":";
    AppendJsonString(features::IsoZoneName(e.iso->zone), &j);
    j += ",\"group\":" + std::to_string(static_cast<int>(e.iso->group)) + ",\"foundation\":";
    AppendJsonString(FoundationName(e.iso->foundation), &j);
    j += '}';
  }
  j += ",\"bearing\":{\"available\":";
  j += e.bearing.empty() ? "false" : "true";
  j += ",\"standing_out\":";
  if (e.standing_out) {
    AppendJsonString(BearingDefectName(*e.standing_out), &j);
  } else {
    j += "null";
  }
  j += ",\"defects\":[";
  for (std::size_t i = 0; i < e.bearing.size(); ++i) {
    if (i > 0) j += ',';
    j += "{\"defect\":";
    AppendJsonString(BearingDefectName(e.bearing[i].defect), &j);
    j += ",\"evidence\":";
    AppendDeviationJson(e.bearing[i].strongest, &j);
    j += ",\"harmonic\":";
    if (e.bearing[i].harmonic) {
      AppendDeviationJson(*e.bearing[i].harmonic, &j);
    } else {
      j += "null";
    }
    j += '}';
  }
  j += "],\"unavailable\":";
  if (e.bearing_unavailable.empty()) {
    j += "null";
  } else {
    AppendJsonString(e.bearing_unavailable, &j);
  }
  j += "}}";
  return j;
}

}  // namespace mh::alarm
