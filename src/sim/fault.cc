#include "sim/fault.h"

#include <string>

#include "core/strings.h"
#include "core/time_util.h"

namespace mh::sim {
namespace {

constexpr FaultKind kAllKinds[] = {FaultKind::kNone,         FaultKind::kOuterRace,
                                   FaultKind::kInnerRace,    FaultKind::kImbalance,
                                   FaultKind::kMisalignment, FaultKind::kLooseness};

std::string ValidKinds() {
  std::string out;
  for (FaultKind kind : kAllKinds) {
    if (!out.empty()) out += ", ";
    out += FaultKindName(kind);
  }
  return out;
}

Result<double> ParseSeconds(std::string_view what, std::string_view text) {
  auto d = ParseDuration(text);
  if (!d.ok()) return Status::InvalidArgument(std::string(what) + ": " + d.status().message());
  return static_cast<double>(d->count()) / 1e9;  // exact for whole ms
}

}  // namespace

const char* FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kNone:
      return "none";
    case FaultKind::kOuterRace:
      return "outer-race";
    case FaultKind::kInnerRace:
      return "inner-race";
    case FaultKind::kImbalance:
      return "imbalance";
    case FaultKind::kMisalignment:
      return "misalignment";
    case FaultKind::kLooseness:
      return "looseness";
  }
  return "unknown";
}

Result<FaultKind> ParseFaultKind(std::string_view text) {
  for (FaultKind kind : kAllKinds) {
    if (text == FaultKindName(kind)) return kind;
  }
  return Status::InvalidArgument("unknown fault kind '" + std::string(text) +
                                 "' (valid: " + ValidKinds() + ")");
}

Result<FaultSpec> ParseFaultSpec(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument(quoted +
                                   " is not a fault (expected MACHINE:KIND[@START[/RAMP]], "
                                   "e.g. 3:outer-race@40s)");
  }
  FaultSpec spec;
  auto machine = ParseInt(text.substr(0, colon));
  if (!machine.ok() || *machine < 1 || *machine > 1000000) {
    return Status::InvalidArgument(quoted + ": machine '" + std::string(text.substr(0, colon)) +
                                   "' is not a machine number >= 1");
  }
  spec.machine = static_cast<int>(*machine);
  std::string_view rest = text.substr(colon + 1);
  const std::size_t at = rest.find('@');
  auto kind = ParseFaultKind(rest.substr(0, at));
  if (!kind.ok()) return Status::InvalidArgument(quoted + ": " + kind.status().message());
  spec.kind = *kind;
  if (at != std::string_view::npos) {
    std::string_view timing = rest.substr(at + 1);
    const std::size_t slash = timing.find('/');
    auto start = ParseSeconds("start", timing.substr(0, slash));
    if (!start.ok()) return Status::InvalidArgument(quoted + ": " + start.status().message());
    spec.start_s = *start;
    if (slash != std::string_view::npos) {
      auto ramp = ParseSeconds("ramp", timing.substr(slash + 1));
      if (!ramp.ok()) return Status::InvalidArgument(quoted + ": " + ramp.status().message());
      spec.ramp_s = *ramp;
    }
  }
  return spec;
}

double FaultSeverity(const FaultSpec& spec, double t_s) {
  if (spec.kind == FaultKind::kNone || !(t_s >= spec.start_s)) return 0.0;
  const double elapsed = t_s - spec.start_s;
  if (elapsed >= spec.ramp_s) return 1.0;
  return elapsed / spec.ramp_s;
}

}  // namespace mh::sim
