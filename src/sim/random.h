// Fast, seeded random numbers for the simulator: SplitMix64 (seeding and
// deriving per-machine seeds), xoshiro256** (the sample stream) and a
// ziggurat standard-normal sampler. All are written for this project from the
// published algorithms (Steele et al. 2014; Blackman & Vigna 2018; Marsaglia &
// Tsang 2000) and are deterministic across platforms with IEEE doubles.
//
// Thread safety: a generator object is not thread-safe; distinct objects may
// be used from distinct threads. The ziggurat tables are immutable after their
// first (thread-safe) initialisation.
#ifndef MH_SIM_RANDOM_H_
#define MH_SIM_RANDOM_H_

#include <cstdint>

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

// SplitMix64: a 64-bit counter-based mixer. Used to expand one seed into many
// well-separated seeds; every seed (including 0) is valid.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

// xoshiro256**: 256-bit state, period 2^256 - 1, all 64 output bits usable.
// Seeded through SplitMix64 so that the state is never all zero.
class Xoshiro256 {
 public:
  explicit Xoshiro256(std::uint64_t seed);

  std::uint64_t Next() {
    const std::uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1]: safe as the argument of log().
  double UniformPositive() { return static_cast<double>((Next() >> 11) + 1) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Standard normal N(0, 1) by the 256-layer ziggurat: one 64-bit draw and a
  // multiply on ~99 % of calls.
  double Gaussian();

 private:
  static std::uint64_t Rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  double GaussianSlow(int layer, double u);

  std::uint64_t s_[4];
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
