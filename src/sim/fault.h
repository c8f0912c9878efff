// Fault vocabulary of the simulator: which defect a machine develops, from
// when and how fast. Plain value types and free functions; thread-safe.
#ifndef MH_SIM_FAULT_H_
#define MH_SIM_FAULT_H_

#include <cstdint>
#include <string_view>

#include "core/result.h"

namespace mh::sim {

// Kind of developing defect. Values are serialized (labels, logs): fixed.
enum class FaultKind : std::uint8_t {
  kNone = 0,          // healthy
  kOuterRace = 1,     // bearing outer-race spall: impacts at BPFO
  kInnerRace = 2,     // bearing inner-race spall: impacts at BPFI, 1x modulated
  kImbalance = 3,     // rotor mass imbalance: radial 1x grows
  kMisalignment = 4,  // shaft misalignment: radial 2x, axial 1x and 2x grow
  kLooseness = 5,     // mechanical looseness: (half-)harmonics, truncated response
};

// Stable lowercase name: "none", "outer-race", "inner-race", "imbalance",
// "misalignment", "looseness". Never null.
const char* FaultKindName(FaultKind kind);

// Inverse of FaultKindName (exact, lowercase). InvalidArgument naming the text
// and listing the valid kinds otherwise.
Result<FaultKind> ParseFaultKind(std::string_view text);

// One machine's defect and its time course. Severity is 0 before start_s,
// rises linearly to 1 at start_s + ramp_s, then stays 1 (see Severity()).
struct FaultSpec {
  int machine = 1;                    // 1-based machine number
  FaultKind kind = FaultKind::kNone;  // kNone = healthy
  double start_s = 0;                 // simulated seconds after start when the defect appears
  double ramp_s = 60;                 // seconds from start_s until severity reaches 1 (0 = step)
};

// Parses "MACHINE:KIND[@START[/RAMP]]", e.g. "3:outer-race", "3:outer-race@40s",
// "2:imbalance@1m", "4:looseness@30s/2m". START and RAMP use the duration
// syntax of core ParseDuration (a bare number is seconds); START defaults to 0
// and RAMP to 60 s. InvalidArgument naming the offending part otherwise
// (machine not an integer >= 1, unknown kind, bad duration).
Result<FaultSpec> ParseFaultSpec(std::string_view text);

// Severity in [0, 1] of `spec` at simulated time t_s (seconds since start):
// 0 for kNone or t_s < start_s, (t_s - start_s) / ramp_s while ramping, 1
// afterwards.
double FaultSeverity(const FaultSpec& spec, double t_s);

}  // namespace mh::sim

#endif  // MH_SIM_FAULT_H_
