#include "sink/window_record.h"

namespace mh::sink {

const char* MachineStateName(MachineState state) {
  switch (state) {
    case MachineState::kLearning:
      return "learning";
    case MachineState::kNormal:
      return "normal";
    case MachineState::kAnomalous:
      return "anomalous";
  }
  return "unknown";
}

}  // namespace mh::sink
