// Rolling-element bearing defect frequencies from geometry, with the
// bearings of the shared data sets built in.
//
// Thread safety: pure functions, safe from any thread.
#ifndef MH_FEATURES_BEARING_H_
#define MH_FEATURES_BEARING_H_

#include <string_view>

#include "core/result.h"

namespace mh::features {

// Bearing geometry; lengths in any one unit (only ratios matter).
struct BearingGeometry {
  int rolling_elements = 0;      // Z (per row), > 0
  double element_diameter = 0;   // d, > 0
  double pitch_diameter = 0;     // D (mean diameter), > d
  double contact_angle_deg = 0;  // theta, 0 <= theta < 90
};

// Defect frequencies in Hz for shaft frequency fr (outer race fixed), with
// r = d/D cos(theta):
//   FTF = fr/2 (1 - r)          cage
//   BPFO = Z fr/2 (1 - r)       outer race
//   BPFI = Z fr/2 (1 + r)       inner race
//   BSF = D/(2d) fr (1 - r^2)   ball spin (a ball defect also shows 2 x BSF)
struct BearingFrequencies {
  double ftf_hz = 0;
  double bpfo_hz = 0;
  double bpfi_hz = 0;
  double bsf_hz = 0;
};

// InvalidArgument for invalid geometry or a non-positive/non-finite shaft_hz.
Result<BearingFrequencies> ComputeBearingFrequencies(const BearingGeometry& g, double shaft_hz);

// Built-in geometries: "6205" (SKF 6205-2RS JEM, CWRU drive end), "za2115"
// (Rexnord ZA-2115, IMS; Qiu et al. 2006) and "femto" (PRONOSTIA test
// bearing). NotFound for any other name.
Result<BearingGeometry> LookupBearing(std::string_view name);

}  // namespace mh::features

#endif  // MH_FEATURES_BEARING_H_
