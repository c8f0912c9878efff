// Fast, seeded pseudo-random numbers: SplitMix64 (seeding, deriving seeds)
// and xoshiro256** (the stream), written for this project from the published
// algorithms (Steele et al. 2014; Blackman & Vigna 2018). Deterministic across
// platforms: the same seed gives the same numbers everywhere. Not for
// cryptography.
//
// Thread safety: a generator object is not thread-safe; distinct objects may
// be used from distinct threads.
#ifndef MH_CORE_RANDOM_H_
#define MH_CORE_RANDOM_H_

#include <cstdint>

namespace mh {

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
class Xoshiro256StarStar {
 public:
  explicit Xoshiro256StarStar(std::uint64_t seed) {
    SplitMix64 mix(seed);
    for (auto& word : s_) word = mix.Next();
  }

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

 private:
  static std::uint64_t Rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  std::uint64_t s_[4];
};

}  // namespace mh

#endif  // MH_CORE_RANDOM_H_
