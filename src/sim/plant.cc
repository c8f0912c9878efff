#include "sim/plant.h"

#include <cmath>
#include <string>

#include "sim/random.h"
#include "sim/signal_model.h"

namespace mh::sim {
Result<std::vector<MachineConfig>> MakePlant(const PlantOptions& options) {
  if (options.machines < 1 || options.machines > kMaxMachines) {
    return Status::InvalidArgument("machines must be in 1.." + std::to_string(kMaxMachines) +
                                   ", got " + std::to_string(options.machines));
  }
  if (!(options.sample_rate_hz > 0) || !(options.sample_rate_hz <= kMaxSampleRateHz)) {
    return Status::InvalidArgument("sample rate must be in (0, 10000000] hz, got " +
                                   std::to_string(options.sample_rate_hz));
  }
  std::vector<MachineConfig> configs(static_cast<std::size_t>(options.machines));
  for (const FaultSpec& fault : options.faults) {
    const std::string what =
        "fault " + std::to_string(fault.machine) + ":" + FaultKindName(fault.kind);
    if (fault.machine < 1 || fault.machine > options.machines) {
      return Status::InvalidArgument(what + ": machine " + std::to_string(fault.machine) +
                                     " is not in 1.." + std::to_string(options.machines));
    }
    if (fault.kind == FaultKind::kNone) {
      return Status::InvalidArgument(what + ": kind none is not a fault");
    }
    if (!std::isfinite(fault.start_s) || fault.start_s < 0 || !std::isfinite(fault.ramp_s) ||
        fault.ramp_s < 0) {
      return Status::InvalidArgument(what + ": start and ramp must be finite and >= 0");
    }
    MachineConfig& config = configs[static_cast<std::size_t>(fault.machine - 1)];
    if (config.fault.kind != FaultKind::kNone) {
      return Status::InvalidArgument(what + ": machine " + std::to_string(fault.machine) +
                                     " already has a fault (" + FaultKindName(config.fault.kind) +
                                     ")");
    }
    config.fault = fault;
  }
  SplitMix64 seeds(options.seed);
  for (int i = 0; i < options.machines; ++i) {
    MachineConfig& config = configs[static_cast<std::size_t>(i)];
    config.machine_id = "m" + std::to_string(i + 1);
    config.sensor_id = config.machine_id + "-de";
    config.sample_rate_hz = options.sample_rate_hz;
    config.seed = seeds.Next();
    // Speed from a stream of its own so the sample stream is independent of it.
    const double u =
        static_cast<double>(SplitMix64(config.seed ^ 0x2545f4914f6cdd1dULL).Next() >> 11) *
        0x1.0p-53;
    config.shaft_hz = model::kNominalShaftHz * (1.0 + model::kShaftSpread * (2.0 * u - 1.0));
    if (config.fault.kind == FaultKind::kNone) config.fault.machine = i + 1;
  }
  return configs;
}

std::vector<FaultSpec> DemoFaults() {
  return {
      FaultSpec{3, FaultKind::kOuterRace, 40.0, 60.0},
      FaultSpec{4, FaultKind::kImbalance, 40.0, 60.0},
  };
}

}  // namespace mh::sim
