// Fuzz target for the saved alarm state (alarm/alarm_state.h): any bytes must
// decode to a state or give Corruption; a decoded state encodes to a text
// that decodes to the same state, and restoring it either fails with
// Corruption or gives a tracker that accepts the next window.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include "alarm/alarm_state.h"
#include "alarm/alarm_tracker.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto state = mh::alarm::DecodeTrackerState(text);
  if (!state.ok()) {
    if (!state.status().IsCorruption() || state.status().message().empty()) std::abort();
    return 0;
  }
  const std::string once = mh::alarm::EncodeTrackerState(*state);
  auto again = mh::alarm::DecodeTrackerState(once);
  if (!again.ok() || mh::alarm::EncodeTrackerState(*again) != once) std::abort();
  auto tracker = mh::alarm::AlarmTracker::Restore("m", {}, *state);
  if (!tracker.ok()) {
    if (!tracker.status().IsCorruption()) std::abort();
    return 0;
  }
  const std::int64_t last = state->last_window_ns.value_or(0);
  if (last == std::numeric_limits<std::int64_t>::max()) return 0;
  auto u = tracker->Observe({last + 1, -1.0, true});
  if (!u.ok()) std::abort();
  if (u->state != tracker->state()) std::abort();
  return 0;
}
