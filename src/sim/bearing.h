// Rolling-element bearing kinematics: the defect frequencies of the simulated
// drive-end bearing (SKF 6205-2RS, the CWRU test-rig bearing) as multiples of
// the shaft speed. Pure constexpr functions; thread-safe.
#ifndef MH_SIM_BEARING_H_
#define MH_SIM_BEARING_H_

namespace mh::sim {

// Geometry of a deep-groove ball bearing; lengths in millimetres.
struct BearingGeometry {
  int balls = 9;                     // number of rolling elements
  double ball_diameter_mm = 7.94;    // d
  double pitch_diameter_mm = 39.04;  // D
  double contact_angle_rad = 0.0;    // alpha
};

// SKF 6205-2RS: 9 balls, d = 7.94 mm, D = 39.04 mm, alpha = 0.
inline constexpr BearingGeometry kSkf6205{};

// Ball-pass frequency, outer race, per shaft revolution:
// n/2 * (1 - d/D cos(alpha)). 3.585 for kSkf6205 (alpha = 0 assumed: cos = 1
// is used when contact_angle_rad == 0; other angles are not needed here).
constexpr double BpfoOrder(const BearingGeometry& g) {
  return 0.5 * g.balls * (1.0 - g.ball_diameter_mm / g.pitch_diameter_mm);
}
// Ball-pass frequency, inner race, per shaft revolution:
// n/2 * (1 + d/D cos(alpha)). 5.415 for kSkf6205.
constexpr double BpfiOrder(const BearingGeometry& g) {
  return 0.5 * g.balls * (1.0 + g.ball_diameter_mm / g.pitch_diameter_mm);
}

}  // namespace mh::sim

#endif  // MH_SIM_BEARING_H_
