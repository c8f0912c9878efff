// The signal model's parameters: one table, read by MachineSimulator, the
// tests and docs/simulator.md (which explains each one and its source).
// Amplitudes are in g, frequencies in Hz, times in seconds; "s" below is the
// fault severity in [0, 1]. Thread-safe (constants).
#ifndef MH_SIM_SIGNAL_MODEL_H_
#define MH_SIM_SIGNAL_MODEL_H_

namespace mh::sim::model {

// Healthy shaft-harmonic amplitudes (1x..4x), g, per axis x, y (radial), z
// (axial); each machine scales each one by U(0.85, 1.15).
inline constexpr double kHarmonicG[3][4] = {
    {0.050, 0.025, 0.012, 0.008},
    {0.045, 0.020, 0.010, 0.007},
    {0.020, 0.015, 0.006, 0.004},
};
// Broadband sensor/process noise, standard deviation in g; scaled U(0.9, 1.1).
inline constexpr double kNoiseG[3] = {0.030, 0.028, 0.022};

// Speed drift: OU process with time constant and stationary std (relative),
// smoothed by a first-order low-pass.
inline constexpr double kDriftTauS = 20.0;
inline constexpr double kDriftSigma = 0.0025;
inline constexpr double kDriftSmoothTauS = 2.0;
// Nominal shaft speed (1797 rpm, the CWRU rig at 0 hp) and the spread of
// nominal speeds between machines (uniform, +/- this fraction; MakePlant()).
inline constexpr double kNominalShaftHz = 29.95;
inline constexpr double kShaftSpread = 0.01;

// Bearing impacts: full-severity impact amplitude (g, peak of the ringing on
// the x axis), cycle jitter (std, fraction of the period), amplitude jitter
// (std, fraction), inner-race 1x modulation depth.
inline constexpr double kOuterRaceImpactG = 4.0;
inline constexpr double kInnerRaceImpactG = 3.0;
inline constexpr double kImpactJitter = 0.015;
inline constexpr double kImpactAmpJitter = 0.10;
inline constexpr double kInnerModulation = 0.6;
inline constexpr double kImpactAxisGain[3] = {1.0, 0.8, 0.3};
// Structural resonances per axis (Hz, scaled U(0.95, 1.05)), damping ratio.
inline constexpr double kResonanceHz[3] = {3200.0, 3650.0, 2750.0};
inline constexpr double kDampingRatio = 0.05;
// Resonances are kept below this fraction of the sample rate.
inline constexpr double kMaxResonanceFraction = 0.4;

// Imbalance: radial 1x amplitude factor 1 + k s.
inline constexpr double kImbalance1x = 6.0;
// Misalignment: radial 2x factor 1 + k s, axial 1x and 2x factors.
inline constexpr double kMisalignRadial2x = 3.0;
inline constexpr double kMisalignAxial1x = 6.0;
inline constexpr double kMisalignAxial2x = 10.0;
// Looseness: half-order amplitudes (0.5x..4x, unit scale), overall amplitude
// (g at severity 1), truncation at this fraction of the waveform's maximum,
// per-axis gains (y vertical dominant).
inline constexpr double kLooseOrders[8] = {0.5, 1.0, 0.45, 0.7, 0.3, 0.45, 0.2, 0.3};
inline constexpr double kLooseG = 0.3;
inline constexpr double kLooseClipFraction = 0.55;
inline constexpr double kLooseAxisGain[3] = {0.6, 1.0, 0.25};

}  // namespace mh::sim::model

#endif  // MH_SIM_SIGNAL_MODEL_H_
