// Operations on the stored baselines shared by the CLI (`machine-health
// baseline`) and the HTTP API (docs/baselines.md): retrain a machine from
// its stored windows, assign a model file to it, and the JSON form of a
// baseline. The store itself is sink::BaselineStore.
//
// Thread safety: the functions share no state (the store is thread-safe).
#ifndef MH_BASELINE_BASELINE_OPS_H_
#define MH_BASELINE_BASELINE_OPS_H_

#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "score/baseline.h"
#include "sink/sqlite/baseline_store.h"

namespace mh::baseline {

struct RetrainOptions {
  // Windows with from_ns <= t < to_ns. Without a `from`, the latest
  // learn.learning_windows windows before `to` (as many as the pipeline
  // learns from).
  bool has_from = false;
  std::int64_t from_ns = std::numeric_limits<std::int64_t>::min();
  std::int64_t to_ns = std::numeric_limits<std::int64_t>::max();
  // Forest, calibration and threshold rule (the pipeline's defaults:
  // app::MakePipelineOptions). learning_windows only sizes the default range.
  score::LearnOptions learn;
};

// Retrains `machine` from its windows stored in the database at `db_path`
// (the `features` table) and saves the result as its new active version
// (origin "learned"). The model features are the active baseline's, else
// those of the machine's latest stored version, else
// features::DefaultModelFeatures of its stored features; each is a stored
// feature or "log_" and one (features::ResolveModelFeature). Windows
// missing a feature, or whose model row is not finite, are skipped. The
// baseline's statistics cover the model features and, as when the pipeline
// learns, the stored envelope amplitudes env_* (the alarm explanation's
// bearing evidence); when some window of the range lacks them (stored before
// the machine had a bearing), the statistics are the model features' only.
// Errors: NotFound (no such database; a machine without stored windows);
// InvalidArgument (no usable window in the range, a model feature that is
// not stored, a range with from >= to); errors of training and the store.
Result<sink::StoredBaseline> Retrain(sink::BaselineStore& store, const std::string& db_path,
                                     const std::string& machine, const RetrainOptions& options);

// Assigns the model file at `model_path` (a `machine-health train` model or
// a scikit-learn pickle/.joblib: iforest::LoadAnyModel) to `machine` as its
// new active version: threshold rule auto (decision_function < 0), no
// training statistics, rows from the model's card, origin the file's
// absolute path. If the database holds windows of the machine, every model
// feature must be computable from them (InvalidArgument naming those that
// are not). Errors of loading the model (NotFound, Corruption, NotSupported)
// and of the store.
Result<sink::StoredBaseline> Assign(sink::BaselineStore& store, const std::string& db_path,
                                    const std::string& machine, const std::string& model_path);

// {"machine", "version", "active", "created" (RFC 3339), "origin",
//  "threshold" (null if NaN), "rule" (DescribeThreshold), "threshold_rule":
//  {"name", "q", "margin", "z"}, "card": {"trained_from", "trained_to" (RFC
//  3339, null when 0), "rows", "features": [...]}}: the same keys in the CLI's
// --json and the HTTP API.
nlohmann::json BaselineInfoJson(const sink::BaselineInfo& info);
// BaselineInfoJson plus "stats": [{"feature", "mean", "std", "min", "max"}]
// (empty for an assigned model) and "model": {"trees", "max_samples",
// "offset", "scaler", "source"}.
nlohmann::json StoredBaselineJson(const sink::StoredBaseline& stored);

}  // namespace mh::baseline

#endif  // MH_BASELINE_BASELINE_OPS_H_
