#include "score/baseline.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/strings.h"

namespace mh::score {
namespace {

// The scorers of the score stage: one row per window, and a machine's
// learning windows (a few hundred rows) once. The portable kernel gives the
// batch kernels' results bit for bit (iforest/scorer.h) without their tables,
// whose building (sorting every threshold of the forest) cost more than
// scoring those rows: 3% of `run`'s CPU with 100 machines (issue 15).
constexpr iforest::ScorerOptions kOneRowScorer{.kernel = iforest::ScorerKernel::kPortable};

}  // namespace

const char* ThresholdRuleName(ThresholdRule rule) {
  switch (rule) {
    case ThresholdRule::kAuto:
      return "auto";
    case ThresholdRule::kQuantile:
      return "quantile";
    case ThresholdRule::kQuantileMargin:
      return "quantile-margin";
    case ThresholdRule::kRobustZ:
      return "robust-z";
  }
  return "?";
}

Result<ThresholdRule> ParseThresholdRule(std::string_view name) {
  for (ThresholdRule r : {ThresholdRule::kAuto, ThresholdRule::kQuantile,
                          ThresholdRule::kQuantileMargin, ThresholdRule::kRobustZ}) {
    if (name == ThresholdRuleName(r)) return r;
  }
  return Status::InvalidArgument(
      "--threshold: expected auto, quantile, quantile-margin or "
      "robust-z, got '" +
      std::string(name) + "'");
}

Status ValidateThresholdOptions(const ThresholdOptions& o) {
  if (!(o.q > 0 && o.q <= 0.5)) {
    return Status::InvalidArgument("--threshold-q: expected a fraction in (0, 0.5], got " +
                                   FormatDouble(o.q));
  }
  if (!(o.margin >= 0) || !std::isfinite(o.margin)) {
    return Status::InvalidArgument("--threshold-margin: expected a number >= 0, got " +
                                   FormatDouble(o.margin));
  }
  if (!(o.z > 0) || !std::isfinite(o.z)) {
    return Status::InvalidArgument("--threshold-z: expected a number > 0, got " +
                                   FormatDouble(o.z));
  }
  return Status::OK();
}

std::string DescribeThreshold(const ThresholdOptions& o) {
  std::string s = ThresholdRuleName(o.rule);
  switch (o.rule) {
    case ThresholdRule::kAuto:
      break;
    case ThresholdRule::kQuantile:
      s += " q=" + FormatDouble(o.q);
      break;
    case ThresholdRule::kQuantileMargin:
      s += " q=" + FormatDouble(o.q) + " margin=" + FormatDouble(o.margin);
      break;
    case ThresholdRule::kRobustZ:
      s += " z=" + FormatDouble(o.z);
      break;
  }
  return s;
}

Result<double> ComputeThreshold(std::span<const double> s, double offset,
                                const ThresholdOptions& o) {
  MH_RETURN_IF_ERROR(ValidateThresholdOptions(o));
  if (o.rule == ThresholdRule::kAuto) return 0.0;
  if (s.empty()) return Status::InvalidArgument("threshold: no training scores");
  std::vector<double> v(s.begin(), s.end());
  double cut = 0;
  switch (o.rule) {
    case ThresholdRule::kQuantile:
      cut = iforest::Percentile(v, 100 * o.q);
      break;
    case ThresholdRule::kQuantileMargin:
      cut = iforest::Percentile(v, 100 * o.q) - o.margin;
      break;
    case ThresholdRule::kRobustZ: {
      const double median = iforest::Percentile(v, 50);
      for (double& x : v) x = std::fabs(x - median);
      const double mad = iforest::Percentile(v, 50);
      cut = median - o.z * 1.4826 * mad;
      break;
    }
    case ThresholdRule::kAuto:
      break;
  }
  return cut - offset;
}

FeatureStats ComputeFeatureStats(const iforest::Matrix& rows, std::vector<std::string> names) {
  FeatureStats st;
  st.names = std::move(names);
  const std::size_t d = rows.cols;
  st.mean.assign(d, 0);
  st.std.assign(d, 0);
  st.min.assign(d, INFINITY);
  st.max.assign(d, -INFINITY);
  if (rows.rows == 0) return st;
  std::vector<std::size_t> count(d, 0);
  for (std::size_t i = 0; i < rows.rows; ++i) {
    for (std::size_t j = 0; j < d; ++j) {
      const double x = rows.data[i * d + j];
      if (!std::isfinite(x)) continue;
      ++count[j];
      st.mean[j] += x;
      st.min[j] = std::min(st.min[j], x);
      st.max[j] = std::max(st.max[j], x);
    }
  }
  for (std::size_t j = 0; j < d; ++j) {
    st.mean[j] = count[j] == 0 ? NAN : st.mean[j] / static_cast<double>(count[j]);
  }
  for (std::size_t i = 0; i < rows.rows; ++i) {
    for (std::size_t j = 0; j < d; ++j) {
      const double x = rows.data[i * d + j];
      if (!std::isfinite(x)) continue;
      const double e = x - st.mean[j];
      st.std[j] += e * e;
    }
  }
  for (std::size_t j = 0; j < d; ++j) {
    st.std[j] = count[j] == 0 ? NAN : std::sqrt(st.std[j] / static_cast<double>(count[j]));
  }
  return st;
}

void AppendFeatureStats(const FeatureStats& more, FeatureStats* into) {
  for (std::size_t j = 0; j < more.names.size(); ++j) {
    if (!std::isfinite(more.mean[j]) || !std::isfinite(more.std[j])) continue;
    if (std::find(into->names.begin(), into->names.end(), more.names[j]) != into->names.end()) {
      continue;
    }
    into->names.push_back(more.names[j]);
    into->mean.push_back(more.mean[j]);
    into->std.push_back(more.std[j]);
    into->min.push_back(more.min[j]);
    into->max.push_back(more.max[j]);
  }
}

MachineScorer::MachineScorer(std::string machine_id, std::vector<std::string> feature_names,
                             LearnOptions options, std::int64_t first_version)
    : machine_id_(std::move(machine_id)),
      names_(std::move(feature_names)),
      options_(std::move(options)),
      next_version_(std::max<std::int64_t>(first_version, 1)) {
  learned_.cols = names_.size();
}

MachineScorer::~MachineScorer() = default;

void MachineScorer::StartLearning(std::int64_t next_version) {
  next_version_ = std::max(next_version_, next_version);
  baseline_.reset();
  scorer_.reset();
  learned_ = iforest::Matrix{};
  learned_.cols = names_.size();
  learned_explain_ = iforest::Matrix{};
  learned_explain_.cols = explain_names_.size();
}

void MachineScorer::SetExplainFeatures(std::vector<std::string> names) {
  std::erase_if(names, [&](const std::string& n) {
    return std::find(names_.begin(), names_.end(), n) != names_.end();
  });
  explain_names_ = std::move(names);
  learned_explain_ = iforest::Matrix{};
  learned_explain_.cols = explain_names_.size();
}

Status MachineScorer::Restore(std::shared_ptr<const Baseline> baseline) {
  if (baseline == nullptr || baseline->model == nullptr) {
    return Status::InvalidArgument("machine '" + machine_id_ + "': no baseline model");
  }
  if (baseline->model->feature_names != names_) {
    std::string missing;
    for (const std::string& n : baseline->model->feature_names) {
      if (std::find(names_.begin(), names_.end(), n) == names_.end()) {
        missing += (missing.empty() ? "" : ", ") + n;
      }
    }
    return Status::InvalidArgument(
        "machine '" + machine_id_ + "': the baseline's features differ from the pipeline's" +
        (missing.empty() ? std::string(" (order or count)") : " (not computed: " + missing + ")"));
  }
  scorer_ = std::make_unique<iforest::Scorer>(*baseline->model, kOneRowScorer);
  next_version_ = std::max(next_version_, baseline->version + 1);
  baseline_ = std::move(baseline);
  return Status::OK();
}

Result<std::vector<double>> MachineScorer::TrainingScores(const iforest::Model& model) const {
  const std::size_t n = learned_.rows, d = learned_.cols;
  std::vector<double> s(n);
  const auto folds = static_cast<std::size_t>(std::max(options_.calibration_folds, 0));
  if (folds < 2 || n < 2 * folds) {
    iforest::Scorer scorer(model, kOneRowScorer);
    scorer.ScoreSamplesBatch(learned_, s);
    return s;
  }
  for (std::size_t f = 0; f < folds; ++f) {
    const std::size_t lo = n * f / folds, hi = n * (f + 1) / folds;
    iforest::Matrix rest, held;
    rest.cols = held.cols = d;
    for (std::size_t i = 0; i < n; ++i) {
      iforest::Matrix& to = i >= lo && i < hi ? held : rest;
      to.data.insert(to.data.end(), learned_.data.begin() + static_cast<std::ptrdiff_t>(i * d),
                     learned_.data.begin() + static_cast<std::ptrdiff_t>((i + 1) * d));
      ++to.rows;
    }
    iforest::TrainOptions to = options_.train;
    to.seed = options_.train.seed + 1 + f;
    auto m = iforest::Train(rest, names_, to);
    if (!m.ok()) {
      return Status(m.status()).WithContext("machine '" + machine_id_ + "': calibration fold");
    }
    iforest::Scorer scorer(*m, kOneRowScorer);
    scorer.ScoreSamplesBatch(held, std::span<double>(s).subspan(lo, hi - lo));
  }
  return s;
}

Status MachineScorer::FinishLearning() {
  if (learned_.rows == 0) {
    return Status::InvalidArgument("machine '" + machine_id_ + "': no learning windows");
  }
  auto model = iforest::Train(learned_, names_, options_.train);
  if (!model.ok()) {
    return Status(model.status()).WithContext("machine '" + machine_id_ + "': learning baseline");
  }
  auto b = std::make_shared<Baseline>();
  b->machine_id = machine_id_;
  b->version = next_version_;
  b->model = std::make_shared<const iforest::Model>(std::move(*model));
  b->rule = options_.threshold;
  b->stats = ComputeFeatureStats(learned_, names_);
  if (learned_explain_.rows > 0) {
    AppendFeatureStats(ComputeFeatureStats(learned_explain_, explain_names_), &b->stats);
  }
  b->trained_from_ns = learned_from_ns_;
  b->trained_to_ns = learned_to_ns_;
  b->rows = static_cast<std::int64_t>(learned_.rows);
  b->origin = "learned";
  MH_ASSIGN_OR_RETURN(std::vector<double> s, TrainingScores(*b->model));
  MH_ASSIGN_OR_RETURN(b->threshold, ComputeThreshold(s, b->model->offset, options_.threshold));
  learned_ = iforest::Matrix{};
  learned_.cols = names_.size();
  learned_explain_ = iforest::Matrix{};
  learned_explain_.cols = explain_names_.size();
  return Restore(std::move(b));
}

Result<Scored> MachineScorer::Observe(std::span<const double> row, std::int64_t t_ns,
                                      std::span<const double> explain) {
  if (row.size() != names_.size()) {
    return Status::InvalidArgument("machine '" + machine_id_ + "': " + std::to_string(row.size()) +
                                   " features, expected " + std::to_string(names_.size()));
  }
  for (std::size_t j = 0; j < row.size(); ++j) {
    if (!std::isfinite(row[j])) {
      return Status::InvalidArgument("machine '" + machine_id_ + "': feature '" + names_[j] +
                                     "' is not finite");
    }
  }
  Scored out;
  if (baseline_ == nullptr) {
    if (learned_.rows == 0) learned_from_ns_ = t_ns;
    learned_to_ns_ = t_ns;
    learned_.data.insert(learned_.data.end(), row.begin(), row.end());
    ++learned_.rows;
    if (!explain_names_.empty()) {
      if (explain.size() == explain_names_.size()) {
        learned_explain_.data.insert(learned_explain_.data.end(), explain.begin(), explain.end());
      } else {
        learned_explain_.data.insert(learned_explain_.data.end(), explain_names_.size(), NAN);
      }
      ++learned_explain_.rows;
    }
    if (options_.learning_windows > 0 && learned_.rows >= options_.learning_windows) {
      MH_RETURN_IF_ERROR(FinishLearning());
    }
    return out;
  }
  out.learning = false;
  out.score_samples = scorer_->ScoreSamples(row);
  out.score = out.score_samples - baseline_->model->offset;
  out.threshold = baseline_->threshold;
  out.anomalous = out.score < out.threshold;
  out.baseline_version = baseline_->version;
  return out;
}

}  // namespace mh::score
