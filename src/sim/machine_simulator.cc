#include "sim/machine_simulator.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>

#include "core/check.h"
#include "sim/bearing.h"
#include "sim/signal_model.h"

namespace mh::sim {
namespace {

using namespace model;  // NOLINT: the parameter table

constexpr double kTwoPi = 2.0 * std::numbers::pi;

// Round-to-nearest-even to an integer for |x| < 2^51 without a libm call.
inline double RoundToInt(double x) {
  constexpr double kMagic = 6755399441055744.0;  // 1.5 * 2^52
  return (x + kMagic) - kMagic;
}
inline double Quantise(double g) { return RoundToInt(g * 1e6) / 1e6; }

}  // namespace

MachineSimulator::MachineSimulator(MachineConfig config)
    : config_(std::move(config)),
      rng_(config_.seed),
      fault_rng_(SplitMix64(config_.seed ^ 0x9e3779b97f4a7c15ULL).Next()),
      fs_(config_.sample_rate_hz) {
  MH_CHECK(std::isfinite(fs_) && fs_ > 0);
  MH_CHECK(std::isfinite(config_.shaft_hz) && config_.shaft_hz > 0);
  // Individual parameters come from their own stream so that adding one does
  // not shift the sample stream.
  Xoshiro256 params(SplitMix64(config_.seed ^ 0x5bd1e9955bd1e995ULL).Next());
  for (int a = 0; a < kAxes; ++a) {
    for (int k = 0; k < kHarmonics; ++k) {
      const double amp = kHarmonicG[a][k] * params.Uniform(0.85, 1.15);
      const double phase = params.Uniform(0.0, kTwoPi);
      base_[a][k] = {amp * std::cos(phase), amp * std::sin(phase)};
    }
    noise_sigma_[a] = kNoiseG[a] * params.Uniform(0.9, 1.1);
  }
  // A rotating unbalance force is seen 90 degrees apart on the two radial
  // axes: tie y's 1x phase to x's (+/- a little mounting asymmetry).
  {
    const double amp_y = std::hypot(base_[1][0].re, base_[1][0].im);
    const double phase_y = std::atan2(base_[0][0].im, base_[0][0].re) - 0.5 * std::numbers::pi +
                           params.Uniform(-0.3, 0.3);
    base_[1][0] = {amp_y * std::cos(phase_y), amp_y * std::sin(phase_y)};
  }
  for (int a = 0; a < kAxes; ++a) {
    const double fn =
        std::min(kResonanceHz[a] * params.Uniform(0.95, 1.05), kMaxResonanceFraction * fs_);
    const double wn = kTwoPi * fn / fs_;
    const double wd = wn * std::sqrt(1.0 - kDampingRatio * kDampingRatio);
    const double r = std::exp(-kDampingRatio * wn);
    res_a1_[a] = 2.0 * r * std::cos(wd);
    res_a2_[a] = r * r;
    // Impulse response b0 r^n sin((n+1) wd) / sin(wd); b0 = sin(wd) makes its
    // peak ~1 per unit impulse.
    res_b0_[a] = std::sin(wd);
    impact_gain_[a] = kImpactAxisGain[a];
    loose_gain_[a] = kLooseAxisGain[a];
  }
  for (int k = 0; k < kHalfOrders; ++k) {
    const double phase = params.Uniform(0.0, kTwoPi);
    loose_[k] = {kLooseOrders[k] * std::cos(phase), kLooseOrders[k] * std::sin(phase)};
  }
  if (config_.fault.kind == FaultKind::kLooseness) {
    // Truncation level and mean of the truncated unit waveform over its
    // period (two shaft revolutions), numerically; only a loose machine uses
    // them (loose_amp_ is 0 otherwise), and the table costs 64 k sin/cos.
    constexpr int kPoints = 4096;
    double wave[kPoints];
    double peak = 0;
    for (int i = 0; i < kPoints; ++i) {
      const double half_angle = kTwoPi * i / kPoints;
      double v = 0;
      for (int k = 0; k < kHalfOrders; ++k) {
        v += loose_[k].re * std::cos((k + 1) * half_angle) -
             loose_[k].im * std::sin((k + 1) * half_angle);
      }
      wave[i] = v;
      peak = std::max(peak, v);
    }
    loose_clip_ = kLooseClipFraction * peak;
    double sum = 0;
    for (double v : wave) sum += std::min(v, loose_clip_);
    loose_mean_ = sum / kPoints;
  }
  switch (config_.fault.kind) {
    case FaultKind::kOuterRace:
      impact_order_ = BpfoOrder(kSkf6205);
      impact_amp_full_ = kOuterRaceImpactG;
      break;
    case FaultKind::kInnerRace:
      impact_order_ = BpfiOrder(kSkf6205);
      impact_amp_full_ = kInnerRaceImpactG;
      modulation_depth_ = kInnerModulation;
      break;
    default:
      break;
  }
  {
    const double load_phase = params.Uniform(0.0, kTwoPi);
    load_zone_ = {std::cos(load_phase), std::sin(load_phase)};
  }
  // Initial state: random shaft angle, speed drift from its stationary law,
  // first impact at a random point of the cycle.
  theta_ = rng_.Uniform(0.0, 2.0 * kTwoPi);
  drift_ou_ = kDriftSigma * rng_.Gaussian();
  drift_ = drift_ou_;
  impact_cycles_ = fault_rng_.Uniform();
  shaft_hz_now_ = config_.shaft_hz * (1.0 + drift_);
}

double MachineSimulator::Severity(double t_s) const { return FaultSeverity(config_.fault, t_s); }

void MachineSimulator::StartBlock() {
  const double block_s = kBlock / fs_;
  // Speed: exact OU discretisation, then first-order smoothing.
  const double decay = std::exp(-block_s / kDriftTauS);
  drift_ou_ = drift_ou_ * decay + kDriftSigma * std::sqrt(1.0 - decay * decay) * rng_.Gaussian();
  drift_ += (drift_ou_ - drift_) * (1.0 - std::exp(-block_s / kDriftSmoothTauS));
  shaft_hz_now_ = config_.shaft_hz * (1.0 + drift_);
  const double step = kTwoPi * shaft_hz_now_ / fs_;  // shaft rad per sample
  // Restart the phasor from the exact angle each block: no error build-up.
  h_ = {std::cos(0.5 * theta_), std::sin(0.5 * theta_)};
  rot_ = {std::cos(0.5 * step), std::sin(0.5 * step)};
  theta_ = std::fmod(theta_ + step * kBlock, 2.0 * kTwoPi);

  severity_ = Severity(static_cast<double>(samples_) / fs_);
  const double s = severity_;
  for (int a = 0; a < kAxes; ++a) {
    for (int k = 0; k < kHarmonics; ++k) coef_[a][k] = base_[a][k];
  }
  auto scale = [&](int axis, int harmonic, double factor) {
    coef_[axis][harmonic].re *= factor;
    coef_[axis][harmonic].im *= factor;
  };
  switch (config_.fault.kind) {
    case FaultKind::kImbalance:
      scale(0, 0, 1.0 + kImbalance1x * s);
      scale(1, 0, 1.0 + kImbalance1x * s);
      break;
    case FaultKind::kMisalignment:
      scale(0, 1, 1.0 + kMisalignRadial2x * s);
      scale(1, 1, 1.0 + kMisalignRadial2x * s);
      scale(2, 0, 1.0 + kMisalignAxial1x * s);
      scale(2, 1, 1.0 + kMisalignAxial2x * s);
      break;
    default:
      break;
  }
  impact_step_ = impact_order_ * shaft_hz_now_ / fs_;
  impact_amp_ = impact_amp_full_ * s;
  loose_amp_ = config_.fault.kind == FaultKind::kLooseness ? kLooseG * s : 0.0;
}

template <bool kBearing, bool kLoose>
void MachineSimulator::Run(std::size_t n, double* ax, double* ay, double* az) {
  // Locals for the hot loop (the compiler cannot keep members in registers
  // across the stores to ax/ay/az).
  double hr = h_.re, hi = h_.im;
  const double rr = rot_.re, ri = rot_.im;
  Complex c[kAxes][kHarmonics];
  for (int a = 0; a < kAxes; ++a) {
    for (int k = 0; k < kHarmonics; ++k) c[a][k] = coef_[a][k];
  }
  double y1[kAxes], y2[kAxes];
  for (int a = 0; a < kAxes; ++a) {
    y1[a] = res_y1_[a];
    y2[a] = res_y2_[a];
  }
  double cycles = impact_cycles_;
  double* out[kAxes] = {ax, ay, az};
  for (std::size_t i = 0; i < n; ++i) {
    // Powers of the half-order phasor: z_k = h^(2k) is the k-th shaft harmonic.
    const double z1r = hr * hr - hi * hi, z1i = 2.0 * hr * hi;
    const double z2r = z1r * z1r - z1i * z1i, z2i = 2.0 * z1r * z1i;
    const double z3r = z2r * z1r - z2i * z1i, z3i = z2r * z1i + z2i * z1r;
    const double z4r = z2r * z2r - z2i * z2i, z4i = 2.0 * z2r * z2i;
    double excitation = 0;
    if constexpr (kBearing) {
      cycles -= impact_step_;
      if (cycles <= 0) {
        double amp = impact_amp_ * (1.0 + kImpactAmpJitter * fault_rng_.Gaussian());
        if (modulation_depth_ != 0) {
          // Load-zone modulation once per shaft revolution (inner race).
          amp *= 1.0 + modulation_depth_ * (z1r * load_zone_.re - z1i * load_zone_.im);
        }
        excitation = amp;
        cycles += std::max(0.5, 1.0 + kImpactJitter * fault_rng_.Gaussian());
      }
    }
    double loose = 0;
    if constexpr (kLoose) {
      const double h3r = z1r * hr - z1i * hi, h3i = z1r * hi + z1i * hr;
      const double h5r = z2r * hr - z2i * hi, h5i = z2r * hi + z2i * hr;
      const double h7r = z3r * hr - z3i * hi, h7i = z3r * hi + z3i * hr;
      const double raw =
          (loose_[0].re * hr - loose_[0].im * hi) + (loose_[1].re * z1r - loose_[1].im * z1i) +
          (loose_[2].re * h3r - loose_[2].im * h3i) + (loose_[3].re * z2r - loose_[3].im * z2i) +
          (loose_[4].re * h5r - loose_[4].im * h5i) + (loose_[5].re * z3r - loose_[5].im * z3i) +
          (loose_[6].re * h7r - loose_[6].im * h7i) + (loose_[7].re * z4r - loose_[7].im * z4i);
      loose = loose_amp_ * (std::min(raw, loose_clip_) - loose_mean_);
    }
    for (int a = 0; a < kAxes; ++a) {
      double v = (c[a][0].re * z1r - c[a][0].im * z1i) + (c[a][1].re * z2r - c[a][1].im * z2i) +
                 (c[a][2].re * z3r - c[a][2].im * z3i) + (c[a][3].re * z4r - c[a][3].im * z4i);
      v += noise_sigma_[a] * rng_.Gaussian();
      if constexpr (kBearing) {
        const double y =
            res_b0_[a] * impact_gain_[a] * excitation + res_a1_[a] * y1[a] - res_a2_[a] * y2[a];
        y2[a] = y1[a];
        y1[a] = y;
        v += y;
      }
      if constexpr (kLoose) v += loose_gain_[a] * loose;
      out[a][i] = Quantise(v);
    }
    // Advance the phasor.
    const double nr = hr * rr - hi * ri;
    hi = hr * ri + hi * rr;
    hr = nr;
  }
  h_ = {hr, hi};
  for (int a = 0; a < kAxes; ++a) {
    res_y1_[a] = y1[a];
    res_y2_[a] = y2[a];
  }
  impact_cycles_ = cycles;
}

void MachineSimulator::Generate(std::size_t n, double* ax, double* ay, double* az) {
  MH_CHECK(n == 0 || (ax != nullptr && ay != nullptr && az != nullptr));
  std::size_t done = 0;
  while (done < n) {
    if (pos_in_block_ == 0) StartBlock();
    const std::size_t m = std::min(n - done, static_cast<std::size_t>(kBlock - pos_in_block_));
    const bool bearing = impact_order_ > 0;
    const bool loose = loose_amp_ > 0;
    if (bearing) {
      Run<true, false>(m, ax + done, ay + done, az + done);
    } else if (loose) {
      Run<false, true>(m, ax + done, ay + done, az + done);
    } else {
      Run<false, false>(m, ax + done, ay + done, az + done);
    }
    pos_in_block_ = (pos_in_block_ + static_cast<int>(m)) % kBlock;
    samples_ += static_cast<std::int64_t>(m);
    done += m;
  }
}

}  // namespace mh::sim
