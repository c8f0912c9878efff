#include "pipeline/machine_monitor.h"

#include <cmath>
#include <utility>

#include "iforest/matrix.h"

namespace mh::pipeline {

MachineMonitor::MachineMonitor(MonitorOptions options, std::vector<std::size_t> model_columns,
                               std::vector<std::string> model_feature_names,
                               std::shared_ptr<const iforest::Model> model)
    : options_(std::move(options)),
      model_columns_(std::move(model_columns)),
      model_feature_names_(std::move(model_feature_names)),
      model_(std::move(model)),
      row_(model_columns_.size()) {
  if (model_) {
    scorer_ = std::make_unique<iforest::Scorer>(*model_);
    state_ = sink::MachineState::kNormal;
  } else {
    learned_.reserve(options_.learning_windows * model_columns_.size());
  }
}

Status MachineMonitor::TrainFromLearned() {
  iforest::Matrix x;
  x.rows = learned_rows_;
  x.cols = model_columns_.size();
  x.data = std::move(learned_);
  learned_ = {};
  auto model = iforest::Train(x, model_feature_names_, options_.train);
  if (!model.ok()) return model.status().WithContext("learning");
  model_ = std::make_shared<const iforest::Model>(std::move(model).value());
  scorer_ = std::make_unique<iforest::Scorer>(*model_);
  return Status::OK();
}

Status MachineMonitor::Observe(std::span<const double> features, sink::WindowRecord* record) {
  for (std::size_t i = 0; i < model_columns_.size(); ++i) row_[i] = features[model_columns_[i]];
  record->threshold = 0;  // decision_function: negative = anomalous
  if (!scorer_) {
    learned_.insert(learned_.end(), row_.begin(), row_.end());
    ++learned_rows_;
    record->state = sink::MachineState::kLearning;
    if (learned_rows_ >= options_.learning_windows) MH_RETURN_IF_ERROR(TrainFromLearned());
    return Status::OK();
  }
  const double score_samples = scorer_->ScoreSamples(row_);
  const double decision = score_samples - model_->offset;
  record->score_samples = score_samples;
  record->score = decision;
  record->anomaly = decision < 0;  // scikit-learn's predict: 0 is an inlier
  recent_.push_back(decision);
  recent_sum_ += decision;
  if (recent_.size() > options_.smoothing_windows) {
    recent_sum_ -= recent_.front();
    recent_.pop_front();
  }
  // Recompute now and then so that rounding does not accumulate.
  if (recent_.size() == options_.smoothing_windows && (learned_rows_++ % 1024) == 0) {
    recent_sum_ = 0;
    for (double v : recent_) recent_sum_ += v;
  }
  const double smoothed = recent_sum_ / static_cast<double>(recent_.size());
  state_ = smoothed < 0 ? sink::MachineState::kAnomalous : sink::MachineState::kNormal;
  record->state = state_;
  record->state_score = smoothed;
  return Status::OK();
}

}  // namespace mh::pipeline
