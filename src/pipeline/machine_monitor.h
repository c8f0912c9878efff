// MachineMonitor: the per-machine decision logic of the pipeline. It takes
// one feature vector per window and turns it into scores and a machine state:
//
//   learning  -- collecting the first `learning_windows` windows; then it
//                trains StandardScaler + Isolation Forest on them (unless a
//                model was given)
//   normal / anomalous -- every window is scored (scikit-learn convention:
//                decision_function, lower = more anomalous, < 0 = anomalous);
//                the state follows the mean score of the last
//                `smoothing_windows` windows, so that one odd window does not
//                flip a machine.
//
// Thread safety: none; one monitor is used by one pipeline worker at a time.
#ifndef MH_PIPELINE_MACHINE_MONITOR_H_
#define MH_PIPELINE_MACHINE_MONITOR_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "iforest/model.h"
#include "iforest/scorer.h"
#include "iforest/train.h"
#include "sink/window_record.h"

namespace mh::pipeline {

struct MonitorOptions {
  // Windows of healthy operation learned from before scoring starts.
  std::size_t learning_windows = 300;
  // The state follows the mean decision_function over this many windows.
  std::size_t smoothing_windows = 20;
  // How the per-machine model is trained after learning.
  iforest::TrainOptions train;
};

class MachineMonitor {
 public:
  // `model_columns[i]` is the index, in the full feature vector, of the
  // model's i-th feature. With `model` null the monitor learns its own.
  MachineMonitor(MonitorOptions options, std::vector<std::size_t> model_columns,
                 std::vector<std::string> model_feature_names,
                 std::shared_ptr<const iforest::Model> model);

  // Consumes the features of the next window (full vector) and fills the
  // score fields and state of `record`. Training failure (e.g. a constant
  // signal) is an error for the caller to report.
  Status Observe(std::span<const double> features, sink::WindowRecord* record);

  sink::MachineState state() const { return state_; }

 private:
  Status TrainFromLearned();

  MonitorOptions options_;
  std::vector<std::size_t> model_columns_;
  std::vector<std::string> model_feature_names_;
  std::shared_ptr<const iforest::Model> model_;
  std::unique_ptr<iforest::Scorer> scorer_;
  std::vector<double> learned_;  // learning rows, row-major, model columns only
  std::size_t learned_rows_ = 0;
  std::vector<double> row_;    // scratch: one model row
  std::deque<double> recent_;  // recent decision_function values
  double recent_sum_ = 0;
  sink::MachineState state_ = sink::MachineState::kLearning;
};

}  // namespace mh::pipeline

#endif  // MH_PIPELINE_MACHINE_MONITOR_H_
