// Vibration velocity from acceleration by integration in the frequency
// domain, and the ISO 20816-3 evaluation zones it is judged against.
//
// Thread safety: pure functions, safe from any thread.
#ifndef MH_FEATURES_VELOCITY_H_
#define MH_FEATURES_VELOCITY_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/result.h"

namespace mh::features {

inline constexpr double kStandardGravity = 9.80665;  // m/s^2 per g

// Unit of acceleration samples. Serialized in options: explicit values.
enum class AccelUnit : std::uint8_t {
  kG = 0,            // standard gravity, 9.80665 m/s^2
  kMetersPerS2 = 1,  // m/s^2
};

// "g" or "m/s2" (also "m/s^2"); InvalidArgument otherwise.
Result<AccelUnit> ParseAccelUnit(std::string_view text);

// RMS velocity in mm/s of the acceleration whose one-sided power spectrum is
// `power` (|A_k|^2, k = 0..n/2, A in `unit`), over bins lo_hz <= f_k <= hi_hz
// (ISO 20816 uses 10-1000 Hz): V_k = A_k / (2 pi f_k), then Parseval with the
// DC/Nyquist weights of BandRms. Bins at 0 Hz are skipped. A 1 g sine at
// 100 Hz gives 11.04 mm/s. Precondition (checked): power.size() == n/2 + 1.
double VelocityRmsMmPerS(std::span<const double> power, std::size_t n, double sample_rate_hz,
                         AccelUnit unit, double lo_hz = 10, double hi_hz = 1000);

// ISO 20816-3 machine groups and foundations.
enum class IsoGroup : std::uint8_t {
  kGroup1 = 1,  // large machines, 300 kW .. 50 MW
  kGroup2 = 2,  // medium machines, 15 kW .. 300 kW
};
enum class Foundation : std::uint8_t {
  kRigid = 0,
  kFlexible = 1,
};
// Evaluation zones: A newly commissioned, B unrestricted long-term operation,
// C restricted operation, D damage may occur.
enum class IsoZone : std::uint8_t { kA = 0, kB = 1, kC = 2, kD = 3 };

// Zone boundaries in mm/s RMS (A/B, B/C, C/D) of ISO 20816-3 Annex A.
struct IsoBoundaries {
  double ab = 0;
  double bc = 0;
  double cd = 0;
};
IsoBoundaries Iso20816Boundaries(IsoGroup group, Foundation foundation);

// The zone of `velocity_mm_s`; a value equal to a boundary belongs to the
// upper zone (2.8 mm/s for group 2 rigid is zone C). NaN or negative input
// is InvalidArgument.
Result<IsoZone> Iso20816Zone(double velocity_mm_s, IsoGroup group, Foundation foundation);

// "A", "B", "C" or "D".
const char* IsoZoneName(IsoZone zone);

}  // namespace mh::features

#endif  // MH_FEATURES_VELOCITY_H_
