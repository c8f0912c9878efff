#include "features/velocity.h"

#include <cmath>
#include <numbers>
#include <string>

#include "core/check.h"
#include "core/strings.h"
#include "features/spectrum.h"

namespace mh::features {

Result<AccelUnit> ParseAccelUnit(std::string_view text) {
  if (text == "g") return AccelUnit::kG;
  if (text == "m/s2" || text == "m/s^2") return AccelUnit::kMetersPerS2;
  return Status::InvalidArgument("unknown acceleration unit '" + std::string(text) +
                                 "' (expected g or m/s2)");
}

double VelocityRmsMmPerS(std::span<const double> power, std::size_t n, double sample_rate_hz,
                         AccelUnit unit, double lo_hz, double hi_hz) {
  MH_CHECK(power.size() == n / 2 + 1);
  const double to_si = unit == AccelUnit::kG ? kStandardGravity : 1.0;
  const BinRange r = BandBins(lo_hz, hi_hz, n, sample_rate_hz);
  double sum = 0;
  for (std::size_t k = r.first; k < r.last; ++k) {
    const double f = BinFrequencyHz(k, n, sample_rate_hz);
    if (!(f > 0)) continue;
    const double omega = 2 * std::numbers::pi * f;
    sum += OneSidedWeight(k, n) * power[k] / (omega * omega);
  }
  // m/s -> mm/s.
  return std::sqrt(sum) / static_cast<double>(n) * to_si * 1000.0;
}

IsoBoundaries Iso20816Boundaries(IsoGroup group, Foundation foundation) {
  const bool rigid = foundation == Foundation::kRigid;
  if (group == IsoGroup::kGroup1) {
    return rigid ? IsoBoundaries{2.3, 4.5, 7.1} : IsoBoundaries{3.5, 7.1, 11.0};
  }
  return rigid ? IsoBoundaries{1.4, 2.8, 4.5} : IsoBoundaries{2.3, 4.5, 7.1};
}

Result<IsoZone> Iso20816Zone(double velocity_mm_s, IsoGroup group, Foundation foundation) {
  if (!(velocity_mm_s >= 0) || !std::isfinite(velocity_mm_s)) {
    return Status::InvalidArgument("velocity must be a finite number >= 0 mm/s, got " +
                                   FormatDouble(velocity_mm_s));
  }
  const IsoBoundaries b = Iso20816Boundaries(group, foundation);
  if (velocity_mm_s < b.ab) return IsoZone::kA;
  if (velocity_mm_s < b.bc) return IsoZone::kB;
  if (velocity_mm_s < b.cd) return IsoZone::kC;
  return IsoZone::kD;
}

const char* IsoZoneName(IsoZone zone) {
  switch (zone) {
    case IsoZone::kA:
      return "A";
    case IsoZone::kB:
      return "B";
    case IsoZone::kC:
      return "C";
    case IsoZone::kD:
      return "D";
  }
  return "?";
}

}  // namespace mh::features
