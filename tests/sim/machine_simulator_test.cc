#include "sim/machine_simulator.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/signal_model.h"
#include "testing/test_paths.h"

namespace mh::sim {
namespace {

constexpr double kFs = 25600;

MachineConfig Config(FaultKind kind = FaultKind::kNone, double start_s = 0, double ramp_s = 0,
                     std::uint64_t seed = 11) {
  MachineConfig c;
  c.machine_id = "m1";
  c.sensor_id = "m1-de";
  c.sample_rate_hz = kFs;
  c.shaft_hz = 29.95;
  c.seed = seed;
  c.fault = FaultSpec{1, kind, start_s, ramp_s};
  return c;
}

struct Signal {
  std::vector<double> x, y, z;
  double mean_shaft_hz = 0;  // average speed over the signal
};

// Generates n samples in kBlock pieces, recording the speed of each block.
Signal Generate(const MachineConfig& config, std::size_t n) {
  MachineSimulator sim(config);
  Signal s;
  s.x.resize(n);
  s.y.resize(n);
  s.z.resize(n);
  double speed_sum = 0;
  int blocks = 0;
  for (std::size_t i = 0; i < n; i += MachineSimulator::kBlock) {
    const std::size_t m = std::min<std::size_t>(MachineSimulator::kBlock, n - i);
    sim.Generate(m, s.x.data() + i, s.y.data() + i, s.z.data() + i);
    speed_sum += sim.current_shaft_hz();
    ++blocks;
  }
  s.mean_shaft_hz = speed_sum / blocks;
  return s;
}

// Spectral measurements by numpy/scipy (/usr/bin/python3) on raw float64
// files, one result line per command:
//   peak FILE LO HI     frequency of the largest Hann-windowed FFT bin in [LO, HI]
//   amp FILE F          amplitude of a sinusoid near F (power of +/-4 bins)
//   envpeak FILE LO HI  frequency of the largest envelope-spectrum bin in
//                       [LO, HI] (1-5 kHz band-pass, |hilbert|)
constexpr char kScript[] = R"py(
import sys
import numpy as np
from scipy.signal import butter, hilbert, sosfiltfilt
fs = float(sys.argv[1])
args = sys.argv[2:]
def spectrum(x):
    w = np.hanning(len(x))
    return np.fft.rfftfreq(len(x), 1 / fs), np.abs(np.fft.rfft(x * w)) * 2 / w.sum()
i = 0
while i < len(args):
    cmd = args[i]
    x = np.fromfile(args[i + 1], dtype='<f8')
    if cmd == 'peak' or cmd == 'envpeak':
        lo, hi = float(args[i + 2]), float(args[i + 3])
        if cmd == 'envpeak':
            sos = butter(4, [1000, 5000], btype='bandpass', fs=fs, output='sos')
            x = np.abs(hilbert(sosfiltfilt(sos, x)))
            x = x - x.mean()
        f, a = spectrum(x)
        m = (f >= lo) & (f <= hi)
        print(f[m][np.argmax(a[m])], f[1])
        i += 4
    elif cmd == 'amp':
        f0 = float(args[i + 2])
        f, a = spectrum(x)
        k = int(round(f0 / f[1]))
        # Hann window: a pure tone's power spreads over 3 bins with total 1.5x.
        print(np.sqrt(np.sum(a[k - 4:k + 5] ** 2) / 1.5))
        i += 3
)py";

class Python {
 public:
  Python() : dir_(testing::MakeTempDir("mh-sim-test")) {
    std::ofstream(dir_ + "/spectral.py") << kScript;
  }
  ~Python() { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::vector<double>& v) {
    const std::string path = dir_ + "/" + name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    std::fwrite(v.data(), sizeof(double), v.size(), f);
    std::fclose(f);
    return path;
  }
  // Runs the script with `commands`; returns all numbers printed.
  std::vector<double> Run(const std::string& commands) {
    std::string out;
    const int rc = testing::RunCommand(testing::ReferencePython() + " " + dir_ + "/spectral.py " +
                                           std::to_string(kFs) + " " + commands,
                                       &out);
    EXPECT_EQ(rc, 0) << out;
    std::vector<double> numbers;
    std::istringstream in(out);
    double v;
    while (in >> v) numbers.push_back(v);
    return numbers;
  }

 private:
  std::string dir_;
};

TEST(MachineSimulatorTest, SameConfigSameSamplesWhateverTheChunking) {
  const MachineConfig config = Config(FaultKind::kInnerRace, 0.05, 0.1);
  constexpr std::size_t kN = 10000;
  const Signal whole = Generate(config, kN);
  MachineSimulator sim(config);
  std::vector<double> x(kN), y(kN), z(kN);
  std::size_t done = 0;
  for (std::size_t piece : {1, 7, 255, 256, 257, 1000, 3}) {
    sim.Generate(piece, x.data() + done, y.data() + done, z.data() + done);
    done += piece;
  }
  sim.Generate(kN - done, x.data() + done, y.data() + done, z.data() + done);
  EXPECT_EQ(sim.samples_generated(), static_cast<std::int64_t>(kN));
  EXPECT_EQ(x, whole.x);
  EXPECT_EQ(y, whole.y);
  EXPECT_EQ(z, whole.z);
}

TEST(MachineSimulatorTest, DifferentSeedDifferentSamples) {
  const Signal a = Generate(Config(FaultKind::kNone, 0, 0, 1), 4096);
  const Signal b = Generate(Config(FaultKind::kNone, 0, 0, 2), 4096);
  int same = 0;
  for (std::size_t i = 0; i < a.x.size(); ++i) same += a.x[i] == b.x[i];
  EXPECT_LT(same, 100);
}

TEST(MachineSimulatorTest, SamplesAreWholeMicroG) {
  const Signal s = Generate(Config(FaultKind::kOuterRace), 20000);
  for (const auto* axis : {&s.x, &s.y, &s.z}) {
    for (double v : *axis) {
      const double k = std::nearbyint(v / kLsbG);
      ASSERT_EQ(v, k / 1e6) << v;
      ASSERT_TRUE(std::isfinite(v));
    }
  }
}

TEST(MachineSimulatorTest, HealthyLevelsAreThoseOfTheModel) {
  // RMS of the x axis: sqrt(sum a_k^2 / 2 + sigma^2) from the parameter
  // table, within the +/-15 % (harmonics) and +/-10 % (noise) machine spread.
  const Signal s = Generate(Config(), 51200);
  double sum2 = 0;
  for (double v : s.x) sum2 += v * v;
  const double rms = std::sqrt(sum2 / s.x.size());
  double expected2 = model::kNoiseG[0] * model::kNoiseG[0];
  for (double a : model::kHarmonicG[0]) expected2 += a * a / 2;
  EXPECT_GT(rms, 0.85 * std::sqrt(expected2));
  EXPECT_LT(rms, 1.15 * std::sqrt(expected2));
}

TEST(MachineSimulatorTest, SeverityIsZeroBeforeStartAndOneAfterRamp) {
  MachineSimulator sim(Config(FaultKind::kOuterRace, 2.0, 4.0));
  EXPECT_EQ(sim.Severity(0.0), 0.0);
  EXPECT_EQ(sim.Severity(1.99), 0.0);
  EXPECT_DOUBLE_EQ(sim.Severity(3.0), 0.25);
  EXPECT_EQ(sim.Severity(6.0), 1.0);
  EXPECT_EQ(sim.Severity(600.0), 1.0);
  // Before the start the faulty machine's samples are exactly the healthy
  // ones of the same seed (whole blocks before 2 s).
  const std::size_t before =
      static_cast<std::size_t>(2.0 * kFs) / MachineSimulator::kBlock * MachineSimulator::kBlock;
  const Signal healthy = Generate(Config(FaultKind::kNone, 0, 0), before + 25600);
  const Signal faulty = Generate(Config(FaultKind::kOuterRace, 2.0, 4.0), before + 25600);
  for (std::size_t i = 0; i < before; ++i) ASSERT_EQ(healthy.x[i], faulty.x[i]) << i;
  double diff2 = 0;
  for (std::size_t i = before; i < healthy.x.size(); ++i) {
    diff2 += (faulty.x[i] - healthy.x[i]) * (faulty.x[i] - healthy.x[i]);
  }
  EXPECT_GT(diff2, 0.0);
}

TEST(MachineSimulatorTest, SpectraAgreeWithTheModel) {
  constexpr std::size_t kN = 4 * 25600;  // 4 s: 0.25 Hz bins
  const Signal healthy = Generate(Config(), kN);
  const Signal imbalance = Generate(Config(FaultKind::kImbalance), kN);
  const Signal misalign = Generate(Config(FaultKind::kMisalignment), kN);
  const Signal loose = Generate(Config(FaultKind::kLooseness), kN);
  Python py;
  const double f1 = healthy.mean_shaft_hz;
  ASSERT_EQ(imbalance.mean_shaft_hz, f1);  // same seed: same speed history
  const std::string hx = py.Write("hx", healthy.x), hz = py.Write("hz", healthy.z),
                    hy = py.Write("hy", healthy.y);
  const std::string ix = py.Write("ix", imbalance.x), mz = py.Write("mz", misalign.z),
                    ly = py.Write("ly", loose.y);
  auto f = [](double v) { return std::to_string(v); };
  const std::vector<double> r = py.Run(
      "peak " + hx + " 5 1000 amp " + hx + " " + f(f1) + " amp " + ix + " " + f(f1) + " amp " + hz +
      " " + f(f1) + " amp " + mz + " " + f(f1) + " amp " + hz + " " + f(2 * f1) + " amp " + mz +
      " " + f(2 * f1) + " amp " + hy + " " + f(0.5 * f1) + " amp " + ly + " " + f(0.5 * f1));
  ASSERT_EQ(r.size(), 10u);
  // Healthy: the largest line is the shaft's 1x, within one bin.
  EXPECT_NEAR(r[0], f1, r[1]) << "peak at " << r[0] << " Hz, shaft " << f1 << " Hz";
  EXPECT_NEAR(f1, 29.95, 29.95 * 0.01);
  // Imbalance at severity 1: radial 1x amplitude times (1 + kImbalance1x).
  EXPECT_NEAR(r[3] / r[2], 1 + model::kImbalance1x, 0.03 * (1 + model::kImbalance1x));
  // Misalignment at severity 1: axial 1x and 2x times (1 + k).
  EXPECT_NEAR(r[5] / r[4], 1 + model::kMisalignAxial1x, 0.05 * (1 + model::kMisalignAxial1x));
  EXPECT_NEAR(r[7] / r[6], 1 + model::kMisalignAxial2x, 0.05 * (1 + model::kMisalignAxial2x));
  // Looseness: a half-harmonic (0.5x) line appears, far above the noise floor.
  EXPECT_GT(r[9], 20 * r[8]);
}

TEST(MachineSimulatorTest, BearingDefectsShowInTheEnvelopeSpectrum) {
  constexpr std::size_t kN = 4 * 25600;
  // Severity 0.5 (start 0, ramp 2 s, measured from 1 s to 5 s: 0.5..1).
  const Signal outer = Generate(Config(FaultKind::kOuterRace, 0, 2, 5), kN);
  const Signal inner = Generate(Config(FaultKind::kInnerRace, 0, 2, 6), kN);
  // SKF 6205: 9 balls, d = 7.94 mm, D = 39.04 mm, contact angle 0.
  const double bpfo = 4.5 * (1 - 7.94 / 39.04) * outer.mean_shaft_hz;
  const double bpfi = 4.5 * (1 + 7.94 / 39.04) * inner.mean_shaft_hz;
  EXPECT_NEAR(bpfo / outer.mean_shaft_hz, 3.585, 0.001);
  EXPECT_NEAR(bpfi / inner.mean_shaft_hz, 5.415, 0.001);
  Python py;
  const std::vector<double> r = py.Run("envpeak " + py.Write("o", outer.x) + " 20 500 envpeak " +
                                       py.Write("i", inner.x) + " 60 500");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_NEAR(r[0], bpfo, 2 * r[1]) << "outer race envelope peak";
  EXPECT_NEAR(r[2], bpfi, 2 * r[3]) << "inner race envelope peak";
}

}  // namespace
}  // namespace mh::sim
