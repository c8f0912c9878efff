#include "features/bearing.h"

#include <cmath>
#include <numbers>
#include <string>

namespace mh::features {

Result<BearingFrequencies> ComputeBearingFrequencies(const BearingGeometry& g, double shaft_hz) {
  if (g.rolling_elements <= 0 || !(g.element_diameter > 0) ||
      !(g.pitch_diameter > g.element_diameter) || !std::isfinite(g.pitch_diameter) ||
      !(g.contact_angle_deg >= 0 && g.contact_angle_deg < 90)) {
    return Status::InvalidArgument(
        "bearing geometry needs rolling elements > 0, 0 < d < D and 0 <= contact angle < 90");
  }
  if (!(shaft_hz > 0) || !std::isfinite(shaft_hz)) {
    return Status::InvalidArgument("shaft frequency must be a positive number of hz");
  }
  const double r = g.element_diameter / g.pitch_diameter *
                   std::cos(g.contact_angle_deg * std::numbers::pi / 180.0);
  const double z = g.rolling_elements;
  BearingFrequencies f;
  f.ftf_hz = shaft_hz / 2 * (1 - r);
  f.bpfo_hz = z * shaft_hz / 2 * (1 - r);
  f.bpfi_hz = z * shaft_hz / 2 * (1 + r);
  f.bsf_hz = g.pitch_diameter / (2 * g.element_diameter) * shaft_hz * (1 - r * r);
  return f;
}

Result<BearingGeometry> LookupBearing(std::string_view name) {
  // Values as documented in ../shared/data/<set>/README.md.
  if (name == "6205") return BearingGeometry{9, 0.3126, 1.537, 0.0};      // inches
  if (name == "za2115") return BearingGeometry{16, 0.331, 2.815, 15.17};  // inches
  if (name == "femto") return BearingGeometry{13, 3.5, 25.6, 0.0};        // mm
  return Status::NotFound("unknown bearing '" + std::string(name) +
                          "' (built in: 6205, za2115, femto)");
}

}  // namespace mh::features
