// Fast, seeded random numbers for the simulator: SplitMix64 (seeding and
// deriving per-machine seeds) and xoshiro256** (the sample stream) from
// core/random.h, and a ziggurat standard-normal sampler written for this
// project from the published algorithm (Marsaglia & Tsang 2000). All are
// deterministic across platforms with IEEE doubles.
//
// Thread safety: a generator object is not thread-safe; distinct objects may
// be used from distinct threads. The ziggurat tables are immutable after their
// first (thread-safe) initialisation.
#ifndef MH_SIM_RANDOM_H_
#define MH_SIM_RANDOM_H_

#include <cstdint>

#include "core/random.h"

namespace mh::sim {

namespace internal {
// The ziggurat's layer edges x[0..256] (x[1] = r, x[256] = 0; x[0] is the
// base layer's pseudo-width v / f(r)) and the fast-accept ratios
// x[i + 1] / x[i]. Exposed for the sampler and its tests only.
struct ZigguratTables {
  double x[257];
  double ratio[256];
  double f[257];  // exp(-x^2 / 2)
};
const ZigguratTables& Ziggurat();
}  // namespace internal

// SplitMix64 (core/random.h): expands one seed into many well-separated seeds.
using SplitMix64 = ::mh::SplitMix64;

// xoshiro256** (core/random.h) with the simulator's distributions.
class Xoshiro256 : public Xoshiro256StarStar {
 public:
  explicit Xoshiro256(std::uint64_t seed);

  using Xoshiro256StarStar::Uniform;  // [0, 1) with 53 random bits
  // Uniform in (0, 1]: safe as the argument of log().
  double UniformPositive() { return static_cast<double>((Next() >> 11) + 1) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Standard normal N(0, 1) by the 256-layer ziggurat: one 64-bit draw and a
  // multiply on ~99 % of calls.
  double Gaussian();

 private:
  double GaussianSlow(int layer, double u);

  const internal::ZigguratTables* zig_;  // cached: no static-init guard per draw
};

inline double Xoshiro256::Gaussian() {
  const internal::ZigguratTables& z = *zig_;
  const std::uint64_t bits = Next();
  const int layer = static_cast<int>(bits & 0xff);
  // 53 high bits -> u uniform in [-1, 1).
  const double u = static_cast<double>(bits >> 11) * 0x1.0p-52 - 1.0;
  if (u < z.ratio[layer] && u > -z.ratio[layer]) return u * z.x[layer];
  return GaussianSlow(layer, u);
}

}  // namespace mh::sim

#endif  // MH_SIM_RANDOM_H_
