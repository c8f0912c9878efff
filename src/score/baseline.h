// Score stage of the pipeline (source -> window -> features -> **score** ->
// alarm -> sinks): per machine, a baseline of its normal operation and the
// scoring of every window against it.
//
// A baseline is a StandardScaler + Isolation Forest (iforest::Model) fitted
// on the machine's learning windows, or a model given by the user (`train`,
// a scikit-learn .joblib), plus:
//   - a threshold on decision_function (scikit-learn convention: lower is
//     more anomalous) from the machine's own training scores, by a rule
//     (ThresholdRule; default and evidence in docs/evaluation.md);
//   - the training rows' per-feature statistics (mean, std, min, max), which
//     explain an alarm in standard deviations from normal: the model
//     features', then those of the features kept for the explanation only
//     (MachineScorer::SetExplainFeatures: the envelope amplitudes env_* of
//     the bearing evidence, which are not model features);
//   - a version (1, 2, ... per machine: every stored score names the
//     baseline that produced it) and a card (training window, rows, rule).
//
// MachineScorer holds one machine's state: learning (collecting rows) until
// `learning_windows` rows are in or FinishLearning() is called, then
// scoring with its baseline. Restore() puts a stored baseline back (a
// restarted pipeline does not relearn).
//
// Thread safety: a MachineScorer is used by one thread at a time; a
// Baseline is immutable once built and shared between threads.
#ifndef MH_SCORE_BASELINE_H_
#define MH_SCORE_BASELINE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "iforest/model.h"
#include "iforest/scorer.h"
#include "iforest/train.h"

namespace mh::score {

// How a machine's threshold follows from its training scores s_i
// (score_samples of the learning rows). Serialized by name.
enum class ThresholdRule : std::uint8_t {
  kAuto = 0,            // scikit-learn contamination="auto": decision_function < 0
  kQuantile = 1,        // s < quantile(s_i, q)
  kQuantileMargin = 2,  // s < quantile(s_i, q) - margin
  kRobustZ = 3,         // s < median(s_i) - z * 1.4826 * MAD(s_i)
};

struct ThresholdOptions {
  ThresholdRule rule = ThresholdRule::kQuantileMargin;
  double q = 0.005;      // kQuantile, kQuantileMargin: in (0, 0.5]
  double margin = 0.02;  // kQuantileMargin: in score units, >= 0
  double z = 6;          // kRobustZ: > 0
};

// "auto", "quantile", "quantile-margin", "robust-z".
const char* ThresholdRuleName(ThresholdRule rule);
Result<ThresholdRule> ParseThresholdRule(std::string_view name);
// InvalidArgument naming the parameter (--threshold-q ...) out of range.
Status ValidateThresholdOptions(const ThresholdOptions& options);
// "quantile-margin q=0.005 margin=0.02".
std::string DescribeThreshold(const ThresholdOptions& options);

// The decision_function value below which a window is anomalous, from the
// training rows' score_samples (out-of-fold: LearnOptions) and the model's
// offset. InvalidArgument for
// no training scores.
Result<double> ComputeThreshold(std::span<const double> training_score_samples, double offset,
                                const ThresholdOptions& options);

// Per-feature statistics of the training rows (population std).
struct FeatureStats {
  std::vector<std::string> names;
  std::vector<double> mean, std, min, max;
};
// Non-finite values are left out of their column's statistics; a column
// without a finite value has mean and std NaN (min +inf, max -inf).
FeatureStats ComputeFeatureStats(const iforest::Matrix& rows, std::vector<std::string> names);
// Appends the columns of `more` whose mean is finite and whose name `into`
// does not have yet (the explanation's features after the model's).
void AppendFeatureStats(const FeatureStats& more, FeatureStats* into);

struct Baseline {
  std::string machine_id;
  std::int64_t version = 0;  // >= 1
  std::shared_ptr<const iforest::Model> model;
  double threshold = 0;  // decision_function below this is anomalous
  ThresholdOptions rule;
  FeatureStats stats;  // of the training rows (empty for an assigned model)
  // Card: where the baseline came from.
  std::int64_t trained_from_ns = 0;  // first / last learning window's time
  std::int64_t trained_to_ns = 0;
  std::int64_t rows = 0;
  std::string origin;  // "learned", or the path of an assigned model
};

struct LearnOptions {
  // Learning windows before the baseline is fitted; 0 = until
  // FinishLearning() (evaluate: the manifest's learn rows).
  std::size_t learning_windows = 300;
  // The threshold's training scores are out-of-fold: the learning rows are
  // cut into this many contiguous blocks (in time order), and each block is
  // scored by a forest fitted on the others, so that the threshold reflects
  // how a normal window the forest has not seen scores (in-sample scores are
  // optimistic, the more so the fewer the rows) and how normal operation
  // drifts within the learning stretch. 0 or 1 = in-sample scores; fewer
  // than 2 rows per block fall back to in-sample. The baseline itself is
  // fitted on every row.
  int calibration_folds = 5;
  iforest::TrainOptions train;
  ThresholdOptions threshold;
};

// The result of one window.
struct Scored {
  bool learning = true;  // no baseline yet: the other fields are unset
  double score_samples = 0;
  double score = 0;  // decision_function = score_samples - offset
  double threshold = 0;
  bool anomalous = false;  // score < threshold
  std::int64_t baseline_version = 0;
};

class MachineScorer {
 public:
  // `feature_names`: the model's input features, in the order rows are
  // given. `first_version`: the version the next learned baseline gets.
  MachineScorer(std::string machine_id, std::vector<std::string> feature_names,
                LearnOptions options, std::int64_t first_version = 1);
  ~MachineScorer();

  // Features that are not model features but whose statistics the learned
  // baseline keeps too (Baseline::stats, after the model features'), for
  // the alarm explanation: the pipeline passes the envelope amplitudes env_*
  // of the bearing evidence. Their values come with each row (Observe's
  // `explain`, in `names` order); names that are model features are
  // ignored. Takes effect for rows observed from now on (call before
  // learning starts); empty by default.
  void SetExplainFeatures(std::vector<std::string> names);
  const std::vector<std::string>& explain_feature_names() const { return explain_names_; }

  // Takes a window's model row (feature_names order) at event time t_ns:
  // while learning, keeps it (and fits the baseline when learning_windows
  // are in; that window is still a learning one); else scores it. `explain`:
  // the window's values of explain_feature_names() (ignored unless it has
  // exactly that many; a non-finite one is left out of its statistics).
  // Errors: a non-finite model value (InvalidArgument naming the feature), a
  // failed fit (e.g. every learning row the same: message names the machine).
  Result<Scored> Observe(std::span<const double> row, std::int64_t t_ns,
                         std::span<const double> explain = {});
  // Fits the baseline from the rows kept so far. InvalidArgument when none.
  Status FinishLearning();
  // Uses `baseline` from now on (restart, or an assigned model): its model
  // must have exactly feature_names (InvalidArgument listing the difference).
  Status Restore(std::shared_ptr<const Baseline> baseline);
  // Forgets the baseline and starts learning anew (baseline reset); the
  // baseline it learns gets at least `next_version` (0: the scorer's own next).
  void StartLearning(std::int64_t next_version = 0);

  bool learning() const { return baseline_ == nullptr; }
  std::size_t learned_rows() const { return learned_.rows; }
  const std::shared_ptr<const Baseline>& baseline() const { return baseline_; }
  const std::vector<std::string>& feature_names() const { return names_; }

 private:
  // score_samples of the learning rows for the threshold (out-of-fold).
  Result<std::vector<double>> TrainingScores(const iforest::Model& model) const;

  std::string machine_id_;
  std::vector<std::string> names_;
  LearnOptions options_;
  std::int64_t next_version_;
  iforest::Matrix learned_;
  std::vector<std::string> explain_names_;
  // The learning rows' explain values (explain_names_ columns; rows without
  // them are NaN, left out of the statistics).
  iforest::Matrix learned_explain_;
  std::int64_t learned_from_ns_ = 0, learned_to_ns_ = 0;
  std::shared_ptr<const Baseline> baseline_;
  std::unique_ptr<iforest::Scorer> scorer_;
};

}  // namespace mh::score

#endif  // MH_SCORE_BASELINE_H_
