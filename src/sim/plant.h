// A plant: N simulated machines with ids, per-machine seeds and speeds, and
// the faults assigned to them. Free functions over plain values; thread-safe.
#ifndef MH_SIM_PLANT_H_
#define MH_SIM_PLANT_H_

#include <cstdint>
#include <vector>

#include "core/result.h"
#include "sim/fault.h"
#include "sim/machine_simulator.h"

namespace mh::sim {

struct PlantOptions {
  int machines = 4;               // number of machines, >= 1
  double sample_rate_hz = 25600;  // per axis, > 0
  std::uint64_t seed = 1;         // plant seed; same seed -> same plant and samples
  std::vector<FaultSpec> faults;  // at most one per machine; others stay healthy
};

// Upper limit on PlantOptions::machines (a sanity bound, not a performance one).
inline constexpr int kMaxMachines = 100000;
// Upper limit on PlantOptions::sample_rate_hz.
inline constexpr double kMaxSampleRateHz = 10e6;

// Builds the machines "m1".."mN" (sensor "mK-de"), each with its own seed
// derived from options.seed and a nominal speed within +/-1 % of 29.95 Hz.
// InvalidArgument naming the problem when machines is outside 1..kMaxMachines,
// sample_rate_hz is not in (0, kMaxSampleRateHz], a fault's machine is outside
// 1..machines, a fault has kind kNone, a negative or non-finite start or ramp,
// or two faults name the same machine.
Result<std::vector<MachineConfig>> MakePlant(const PlantOptions& options);

// The faults of the `run` demo for 4 machines: machine 3 outer-race and
// machine 4 imbalance, both starting at 40 s (after the 30 s healthy learning
// stretch) with a 60 s ramp. Machines 1 and 2 stay healthy.
std::vector<FaultSpec> DemoFaults();

}  // namespace mh::sim

#endif  // MH_SIM_PLANT_H_
