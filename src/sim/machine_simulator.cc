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

// Run's per-sample arrays (about 30 KB): one set per thread rather than on
// the stack, so that profilers' stack copies still reach the callers.
struct RunScratch {
  static constexpr int kN = MachineSimulator::kBlock;
  alignas(64) double zr[4][kN];  // z_k = h^(2k), k = 1..4
  alignas(64) double zi[4][kN];
  alignas(64) double hr[kN];  // h
  alignas(64) double hi[kN];
  alignas(64) double noise[3][kN];
  alignas(64) double ring[3][kN];
  alignas(64) double excitation[kN];
  alignas(64) double loose[kN];
};
RunScratch& Scratch() {
  thread_local RunScratch scratch;
  return scratch;
}

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
  // In passes over the (at most kBlock) samples, so that the per-axis sums
  // vectorise: the serial recurrences (the phasor, the random streams, the
  // resonances) get loops of their own. Every sample is computed with the
  // same operations in the same order as one loop over the samples would,
  // and the random streams are drawn in the same order: the output is the
  // same to the bit.
  MH_CHECK(n <= static_cast<std::size_t>(kBlock));
  // Powers of the half-order phasor h: z_k = h^(2k) is the k-th shaft
  // harmonic (k = 1..4); h itself for the half orders.
  static_assert(kHarmonics == 4 && kAxes == 3, "RunScratch's sizes");
  RunScratch& scratch = Scratch();
  auto& zr = scratch.zr;
  auto& zi = scratch.zi;
  auto& hr_at = scratch.hr;
  auto& hi_at = scratch.hi;
  {
    double hr = h_.re, hi = h_.im;
    const double rr = rot_.re, ri = rot_.im;
    for (std::size_t i = 0; i < n; ++i) {
      const double z1r = hr * hr - hi * hi, z1i = 2.0 * hr * hi;
      const double z2r = z1r * z1r - z1i * z1i, z2i = 2.0 * z1r * z1i;
      zr[0][i] = z1r;
      zi[0][i] = z1i;
      zr[1][i] = z2r;
      zi[1][i] = z2i;
      zr[2][i] = z2r * z1r - z2i * z1i;
      zi[2][i] = z2r * z1i + z2i * z1r;
      zr[3][i] = z2r * z2r - z2i * z2i;
      zi[3][i] = 2.0 * z2r * z2i;
      if constexpr (kLoose) {
        hr_at[i] = hr;
        hi_at[i] = hi;
      }
      // Advance the phasor.
      const double nr = hr * rr - hi * ri;
      hi = hr * ri + hi * rr;
      hr = nr;
    }
    h_ = {hr, hi};
  }
  // The noise, drawn sample by sample, axis by axis.
  auto& noise = scratch.noise;
  for (std::size_t i = 0; i < n; ++i) {
    for (int a = 0; a < kAxes; ++a) noise[a][i] = rng_.Gaussian();
  }
  // Bearing impacts through each axis' resonance.
  auto& ring = scratch.ring;
  if constexpr (kBearing) {
    auto& excitation = scratch.excitation;
    double cycles = impact_cycles_;
    for (std::size_t i = 0; i < n; ++i) {
      double e = 0;
      cycles -= impact_step_;
      if (cycles <= 0) {
        double amp = impact_amp_ * (1.0 + kImpactAmpJitter * fault_rng_.Gaussian());
        if (modulation_depth_ != 0) {
          // Load-zone modulation once per shaft revolution (inner race).
          amp *= 1.0 + modulation_depth_ * (zr[0][i] * load_zone_.re - zi[0][i] * load_zone_.im);
        }
        e = amp;
        cycles += std::max(0.5, 1.0 + kImpactJitter * fault_rng_.Gaussian());
      }
      excitation[i] = e;
    }
    impact_cycles_ = cycles;
    for (int a = 0; a < kAxes; ++a) {
      double y1 = res_y1_[a], y2 = res_y2_[a];
      const double b0 = res_b0_[a], gain = impact_gain_[a], a1 = res_a1_[a], a2 = res_a2_[a];
      for (std::size_t i = 0; i < n; ++i) {
        const double y = b0 * gain * excitation[i] + a1 * y1 - a2 * y2;
        y2 = y1;
        y1 = y;
        ring[a][i] = y;
      }
      res_y1_[a] = y1;
      res_y2_[a] = y2;
    }
  }
  // Looseness: the truncated half-order waveform.
  auto& loose = scratch.loose;
  if constexpr (kLoose) {
    for (std::size_t i = 0; i < n; ++i) {
      const double hr = hr_at[i], hi = hi_at[i];
      const double z1r = zr[0][i], z1i = zi[0][i], z2r = zr[1][i], z2i = zi[1][i];
      const double z3r = zr[2][i], z3i = zi[2][i], z4r = zr[3][i], z4i = zi[3][i];
      const double h3r = z1r * hr - z1i * hi, h3i = z1r * hi + z1i * hr;
      const double h5r = z2r * hr - z2i * hi, h5i = z2r * hi + z2i * hr;
      const double h7r = z3r * hr - z3i * hi, h7i = z3r * hi + z3i * hr;
      const double raw =
          (loose_[0].re * hr - loose_[0].im * hi) + (loose_[1].re * z1r - loose_[1].im * z1i) +
          (loose_[2].re * h3r - loose_[2].im * h3i) + (loose_[3].re * z2r - loose_[3].im * z2i) +
          (loose_[4].re * h5r - loose_[4].im * h5i) + (loose_[5].re * z3r - loose_[5].im * z3i) +
          (loose_[6].re * h7r - loose_[6].im * h7i) + (loose_[7].re * z4r - loose_[7].im * z4i);
      loose[i] = loose_amp_ * (std::min(raw, loose_clip_) - loose_mean_);
    }
  }
  double* out[kAxes] = {ax, ay, az};
  for (int a = 0; a < kAxes; ++a) {
    const Complex c0 = coef_[a][0], c1 = coef_[a][1], c2 = coef_[a][2], c3 = coef_[a][3];
    const double sigma = noise_sigma_[a];
    const double lg = loose_gain_[a];
    double* o = out[a];
    for (std::size_t i = 0; i < n; ++i) {
      double v = (c0.re * zr[0][i] - c0.im * zi[0][i]) + (c1.re * zr[1][i] - c1.im * zi[1][i]) +
                 (c2.re * zr[2][i] - c2.im * zi[2][i]) + (c3.re * zr[3][i] - c3.im * zi[3][i]);
      v += sigma * noise[a][i];
      if constexpr (kBearing) v += ring[a][i];
      if constexpr (kLoose) v += lg * loose[i];
      o[i] = Quantise(v);
    }
  }
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
