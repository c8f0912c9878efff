// MachineSimulator: the tri-axial drive-end vibration of one simulated
// machine (motor + rolling-element bearing), healthy or developing a fault.
//
// Signal model (docs/simulator.md gives every parameter and formula): shaft
// rotation with a slow random speed drift integrated into a phase; shaft
// harmonics 1x..4x; white Gaussian sensor noise; bearing defects as jittered
// impacts at BPFO/BPFI ringing down 2-pole structural resonances; imbalance,
// misalignment and looseness as growth of the matching (half-)harmonics.
// Output is acceleration in g, quantised to kLsbG (an ideal 1 micro-g ADC),
// so that the fixed 6-decimal CSV text of `simulate` reads back bit-exactly.
//
// Deterministic: the samples depend only on the MachineConfig, never on how
// the stream is split into Generate() calls or on the wall clock.
//
// Thread safety: not thread-safe; use one object per thread.
#ifndef MH_SIM_MACHINE_SIMULATOR_H_
#define MH_SIM_MACHINE_SIMULATOR_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/fault.h"
#include "sim/random.h"

namespace mh::sim {

// Quantisation step of every generated sample, in g: each sample is the double
// nearest to k * 1e-6 for an integer k.
inline constexpr double kLsbG = 1e-6;

// One machine's identity and parameters. Plain value; see MakePlant().
struct MachineConfig {
  std::string machine_id;         // "m1", "m2", ...
  std::string sensor_id;          // "m1-de" (drive-end accelerometer)
  double sample_rate_hz = 25600;  // > 0 (checked)
  double shaft_hz = 29.95;        // nominal speed (1797 rpm); each machine may differ slightly
  std::uint64_t seed = 1;         // per-machine seed (derived from the plant seed)
  FaultSpec fault;                // kind kNone = healthy
};

class MachineSimulator {
 public:
  // Draws the machine's individual parameters (harmonic amplitudes and
  // phases, resonance frequencies) from config.seed. A non-positive or
  // non-finite sample_rate_hz or shaft_hz is a bug (checked); MakePlant
  // validates user input first.
  explicit MachineSimulator(MachineConfig config);

  MachineSimulator(const MachineSimulator&) = delete;
  MachineSimulator& operator=(const MachineSimulator&) = delete;

  // Writes the next n samples of each axis (x, y radial; z axial), in g, to
  // ax[0..n), ay[0..n), az[0..n). No allocation. The pointers may be null
  // only when n == 0.
  void Generate(std::size_t n, double* ax, double* ay, double* az);

  // Samples per axis generated so far (the index of the next sample).
  std::int64_t samples_generated() const { return samples_; }

  // Ground-truth severity in [0, 1] at simulated time t_s (seconds since the
  // first sample); see FaultSeverity().
  double Severity(double t_s) const;

  const MachineConfig& config() const { return config_; }

  // Shaft speed in Hz in effect for the next sample (nominal * (1 + drift)).
  double current_shaft_hz() const { return shaft_hz_now_; }

  // Samples per internal update block: speed, severity and fault gains are
  // updated at multiples of this sample index.
  static constexpr int kBlock = 256;

 private:
  struct Complex {
    double re = 0;
    double im = 0;
  };
  static constexpr int kAxes = 3;
  static constexpr int kHarmonics = 4;   // 1x..4x
  static constexpr int kHalfOrders = 8;  // 0.5x..4x (looseness)

  void StartBlock();
  template <bool kBearing, bool kLoose>
  void Run(std::size_t n, double* ax, double* ay, double* az);

  MachineConfig config_;
  Xoshiro256 rng_;        // noise and speed drift
  Xoshiro256 fault_rng_;  // fault randomness: a fault does not perturb the rest
  double fs_;
  std::int64_t samples_ = 0;
  int pos_in_block_ = 0;

  // Speed drift: two-stage low-pass (Ornstein-Uhlenbeck then first order).
  double drift_ou_ = 0;
  double drift_ = 0;
  double shaft_hz_now_ = 0;
  double theta_ = 0;  // shaft angle at the next block start, rad, in [0, 4 pi)

  // Half-order phasor h = exp(i theta / 2) and its per-sample rotation.
  Complex h_;
  Complex rot_;

  double severity_ = 0;
  Complex base_[kAxes][kHarmonics];  // healthy complex amplitudes, g
  Complex coef_[kAxes][kHarmonics];  // in effect for this block
  double noise_sigma_[kAxes];

  // Bearing impacts.
  double impact_order_ = 0;      // BPFO or BPFI in shaft orders; 0 = none
  double impact_step_ = 0;       // impact cycles per sample (this block)
  double impact_cycles_ = 0;     // cycles left until the next impact
  double impact_amp_full_ = 0;   // impact amplitude at severity 1, g
  double impact_amp_ = 0;        // this block
  double modulation_depth_ = 0;  // inner race: 1x amplitude modulation
  Complex load_zone_;            // inner race: phase of the load zone
  double impact_gain_[kAxes];
  double res_b0_[kAxes], res_a1_[kAxes], res_a2_[kAxes];
  double res_y1_[kAxes] = {0, 0, 0}, res_y2_[kAxes] = {0, 0, 0};

  // Looseness.
  Complex loose_[kHalfOrders];  // unit-scale complex amplitudes of h^1..h^8
  double loose_clip_ = 0;       // truncation level (unit scale)
  double loose_mean_ = 0;       // mean of the truncated unit waveform
  double loose_gain_[kAxes];
  double loose_amp_ = 0;  // this block, g
};

}  // namespace mh::sim

#endif  // MH_SIM_MACHINE_SIMULATOR_H_
