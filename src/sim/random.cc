#include "sim/random.h"

#include <cmath>

#include "core/check.h"

namespace mh::sim {

Xoshiro256::Xoshiro256(std::uint64_t seed)
    : Xoshiro256StarStar(seed), zig_(&internal::Ziggurat()) {}

namespace internal {
namespace {

// Marsaglia & Tsang's constants for 256 layers of equal area v under the
// unnormalised density f(x) = exp(-x^2/2), tail starting at r.
constexpr double kR = 3.6541528853610088;
constexpr double kV = 4.92867323399e-3;

double F(double x) { return std::exp(-0.5 * x * x); }

ZigguratTables BuildTables() {
  ZigguratTables t{};
  t.x[0] = kV / F(kR);
  t.x[1] = kR;
  for (int i = 2; i < 256; ++i) {
    t.x[i] = std::sqrt(-2.0 * std::log(kV / t.x[i - 1] + F(t.x[i - 1])));
  }
  t.x[256] = 0.0;
  for (int i = 0; i < 256; ++i) t.ratio[i] = t.x[i + 1] / t.x[i];
  for (int i = 0; i <= 256; ++i) t.f[i] = F(t.x[i]);
  // Self-check of the constants: the top layer [0, x255] x [f(x255), 1] must
  // have the common area v (to the precision of the published r and v).
  MH_CHECK(std::fabs(t.x[255] * (1.0 - t.f[255]) - kV) < 1e-9);
  return t;
}

}  // namespace

const ZigguratTables& Ziggurat() {
  static const ZigguratTables tables = BuildTables();
  return tables;
}

}  // namespace internal

double Xoshiro256::GaussianSlow(int layer, double u) {
  const internal::ZigguratTables& z = *zig_;
  while (true) {
    if (layer == 0) {
      // Tail beyond r (Marsaglia 1964): exponential proposals, accepted with
      // probability exp(-a^2/2).
      double a, b;
      do {
        a = -std::log(UniformPositive()) / z.x[1];
        b = -std::log(UniformPositive());
      } while (b + b < a * a);
      return u < 0 ? -(z.x[1] + a) : z.x[1] + a;
    }
    const double x = u * z.x[layer];
    // Point uniform in the layer's wedge between f(x[layer]) and f(x[layer+1]).
    const double y = z.f[layer] + Uniform() * (z.f[layer + 1] - z.f[layer]);
    if (y < std::exp(-0.5 * x * x)) return x;
    // Rejected: draw a fresh (layer, u) and try again.
    const std::uint64_t bits = Next();
    layer = static_cast<int>(bits & 0xff);
    u = static_cast<double>(bits >> 11) * 0x1.0p-52 - 1.0;
    if (u < z.ratio[layer] && u > -z.ratio[layer]) return u * z.x[layer];
  }
}

}  // namespace mh::sim
