// `machine-health run --from`, in-process through RunMain, on finite sources:
// waveform events from a JSON-lines file (three sensors, one developing an
// outer-race fault) and a folder of real FEMTO snapshots (dir:?once=1).
// Each machine learns its own baseline; alarms are stored with their
// explanation.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "replay/event_json.h"
#include "testing/cli_run.h"
#include "testing/test_paths.h"
#include "testing/vibration_signals.h"

namespace mh::app {
namespace {

using mh::testing::RunCli;
using ::testing::HasSubstr;

class RunLiveTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = mh::testing::MakeTempDir("mh-run-live"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  nlohmann::json Alarms() {
    auto r = RunCli({"alarms", "list", "--db", dir_ + "/live.db", "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }
  std::string dir_;
};

// Waveform events of three sensors, 0.1 s each (2 channels, 25.6 kHz),
// events [from, to): pump-3 develops an outer-race fault from event 40.
std::string FanAndPumpEvents(int from, int to) {
  const double fs = 25600;
  const std::size_t n = 2560;  // 0.1 s per event
  const std::vector<std::string> channels = {"ax", "ay"};
  std::mt19937_64 rng(7 + static_cast<unsigned>(from));
  std::normal_distribution<double> noise(0, 0.05);
  std::string text;
  for (int e = from; e < to; ++e) {
    for (const char* sensor : {"fan-1", "fan-2", "pump-3"}) {
      std::vector<std::vector<double>> x(2, std::vector<double>(n));
      for (std::size_t i = 0; i < n; ++i) {
        const double t = (static_cast<double>(e) * n + static_cast<double>(i)) / fs;
        for (int c = 0; c < 2; ++c) x[c][i] = 0.3 * std::sin(2 * M_PI * 30 * t + c) + noise(rng);
      }
      if (std::string(sensor) == "pump-3" && e >= 40) {  // an outer-race fault from 4 s
        const std::vector<double> hits =
            mh::testing::ImpactTrain(n, fs, 107, 4000, 0, static_cast<unsigned>(e));
        for (std::size_t i = 0; i < n; ++i) x[0][i] += 2 * hits[i];
      }
      replay::AppendWaveformEventJson({sensor, 1767225600.0 + 0.1 * e, fs, channels, x}, &text);
      text += "\n";
    }
  }
  return text;
}

TEST_F(RunLiveTest, WaveformEventsLearnPerMachineAndAlarmTheFaultyOne) {
  const std::string text = FanAndPumpEvents(0, 60);
  const std::string events = dir_ + "/events.jsonl";
  std::ofstream(events) << text;
  auto r = RunCli({"run", "--from", "jsonl:" + events, "--http", "off", "--db", dir_ + "/live.db",
                   "--learning", "2s", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  // 60 events of 5 windows per machine, 100 of them (2 s) learning.
  EXPECT_THAT(r.out, HasSubstr("180 events, 900 windows stored, 3 machines"));
  EXPECT_THAT(r.err, HasSubstr("machine 'pump-3': first seen, defaults, 25600 hz, learns from "
                               "100 windows"));
  const nlohmann::json alarms = Alarms();
  ASSERT_GE(alarms.size(), 1u) << r.err;
  for (const auto& a : alarms) {
    EXPECT_EQ(a["machine"], "pump-3") << a.dump();
    EXPECT_EQ(a["baseline_version"], 1);
  }
  // The first alarm opens after the fault starts (event 40, t0 + 4 s) and
  // says which features moved.
  const auto& first = alarms.back();
  EXPECT_GE(first["start_ns"].get<std::int64_t>(), 1767225604000000000);
  EXPECT_FALSE(first["explanation_text"].get<std::string>().empty());
  EXPECT_THAT(first["explanation_text"].get<std::string>(), HasSubstr("sd"));
}

TEST_F(RunLiveTest, SnapshotFolderOfARunToFailureIsWatched) {
  MH_REQUIRE_SHARED_DATA();
  const std::string from = mh::testing::SharedDir() + "/data/femto/Bearing2_1";
  if (!std::filesystem::exists(from)) GTEST_SKIP() << from << " is not present";
  std::filesystem::create_directories(dir_ + "/logger/Bearing2_1");
  int files = 0;
  for (const auto& f : std::filesystem::directory_iterator(from)) {
    std::filesystem::copy_file(f.path(),
                               dir_ + "/logger/Bearing2_1/" + f.path().filename().string());
    ++files;
  }
  ASSERT_EQ(files, 44);
  // The first 8 of the 44 snapshots (the first 25 % of life, 40 windows of
  // 20 ms) learn, as in eval/femto.csv.
  auto r = RunCli({"run", "--from", "dir:" + dir_ + "/logger?fs=25600&once=1", "--http", "off",
                   "--db", dir_ + "/live.db", "--learning", "0.8s", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("44 events, 220 windows stored, 1 machines, 1 alarms opened, "
                               "0 dead letters"));
  const nlohmann::json alarms = Alarms();
  ASSERT_EQ(alarms.size(), 1u);
  EXPECT_EQ(alarms[0]["machine"], "Bearing2_1");
  EXPECT_EQ(alarms[0]["open"], true);  // still open at the end of the run
}

// Velocity input is not supported yet: a machines file giving unit "mm/s"
// stops run before anything is read, naming the file, the machine and the
// key.
TEST_F(RunLiveTest, MachinesFileWithAVelocityUnitIsRefused) {
  const std::string file = dir_ + "/machines.toml";
  std::ofstream(file) << "[machines.pump-3]\nunit = \"mm/s\"\n";
  auto r = RunCli({"run", "--from", "jsonl:" + dir_ + "/none.jsonl", "--machines-file", file,
                   "--http", "off", "--db", dir_ + "/x.db"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr(file + ":2:8: machines.pump-3.unit: unit \"mm/s\" (velocity) is "
                                      "not supported yet"));
}

TEST_F(RunLiveTest, LiveOnlyAndSimulatedOnlyOptionsDoNotMix) {
  auto r = RunCli({"run", "--from", "jsonl:" + dir_ + "/none.jsonl", "--machines", "9", "--http",
                   "off", "--db", dir_ + "/x.db"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("not with --from"));
  auto b = RunCli({"run", "--from", "nosuch://x", "--http", "off", "--db", dir_ + "/x.db"});
  EXPECT_NE(b.code, 0);
  EXPECT_THAT(b.err, HasSubstr("--from"));
}

}  // namespace
}  // namespace mh::app

namespace mh::app {
namespace {

// A restarted run resumes every machine with its stored baseline: nothing is
// learned again, and the versions stay.
TEST_F(RunLiveTest, ARestartedRunResumesStoredBaselinesWithoutRelearning) {
  MH_REQUIRE_SHARED_DATA();
  const std::string from = mh::testing::SharedDir() + "/data/femto/Bearing2_1";
  if (!std::filesystem::exists(from)) GTEST_SKIP() << from << " is not present";
  std::vector<std::filesystem::path> files;
  for (const auto& f : std::filesystem::directory_iterator(from)) files.push_back(f.path());
  std::sort(files.begin(), files.end());
  std::filesystem::create_directories(dir_ + "/logger/Bearing2_1");
  auto copy = [&](std::size_t a, std::size_t b) {
    for (std::size_t i = a; i < b; ++i) {
      std::filesystem::copy_file(files[i],
                                 dir_ + "/logger/Bearing2_1/" + files[i].filename().string());
    }
  };
  const std::vector<std::string> args = {"run",
                                         "--from",
                                         "dir:" + dir_ + "/logger?fs=25600&once=1",
                                         "--http",
                                         "off",
                                         "--db",
                                         dir_ + "/live.db",
                                         "--learning",
                                         "0.8s"};
  copy(0, 20);
  auto first = RunCli(args);
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_THAT(first.err, HasSubstr("learns from 40 windows"));
  EXPECT_THAT(first.err, HasSubstr("baseline v1 stored (40 windows"));
  copy(20, files.size());
  auto second = RunCli(args);
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_THAT(second.err, HasSubstr("resumes with its stored baseline v1 (40 windows)"));
  EXPECT_THAT(second.err, ::testing::Not(HasSubstr("stored (")));  // nothing learned again
  EXPECT_THAT(second.out, HasSubstr("24 events, 120 windows stored, 1 machines, 1 alarms opened"));
  auto list = RunCli({"baseline", "list", "--db", dir_ + "/live.db", "--json"});
  ASSERT_EQ(list.code, 0) << list.err;
  const nlohmann::json j = nlohmann::json::parse(list.out);
  ASSERT_EQ(j.size(), 1u) << list.out;
  // Every window after learning names the baseline that scored it.
  const nlohmann::json alarms = Alarms();
  ASSERT_EQ(alarms.size(), 1u);
  EXPECT_EQ(alarms[0]["baseline_version"], 1);
}

// A run stopped while a machine is in alarm: the restarted run's alarm stage
// replays the stored windows and continues the same alarm (one alarm, same
// id, still open) instead of opening a second one for the continuing fault.
TEST_F(RunLiveTest, ARestartedRunContinuesAnOpenAlarm) {
  const std::vector<std::string> base = {"--http",     "off", "--db",   dir_ + "/live.db",
                                         "--learning", "2s",  "--quiet"};
  auto run = [&](int from, int to) {
    const std::string events = dir_ + "/events-" + std::to_string(from) + ".jsonl";
    std::ofstream(events) << FanAndPumpEvents(from, to);
    std::vector<std::string> args = {"run", "--from", "jsonl:" + events};
    args.insert(args.end(), base.begin(), base.end());
    return RunCli(args);
  };
  auto first = run(0, 50);
  ASSERT_EQ(first.code, 0) << first.err;
  nlohmann::json alarms = Alarms();
  ASSERT_EQ(alarms.size(), 1u) << first.err;
  const std::string id = alarms[0]["id"].get<std::string>();
  ASSERT_TRUE(alarms[0]["end_ns"].is_null()) << alarms.dump();  // open at the stop
  auto second = run(50, 70);
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_THAT(second.err, HasSubstr("machine 'pump-3': alarm stage resumes in alarm " + id));
  EXPECT_THAT(second.err, HasSubstr("machine 'fan-1': alarm stage resumes normal"));
  EXPECT_THAT(second.out, HasSubstr("0 alarms opened"));
  alarms = Alarms();
  ASSERT_EQ(alarms.size(), 1u) << alarms.dump();
  EXPECT_EQ(alarms[0]["id"], id);
  EXPECT_TRUE(alarms[0]["end_ns"].is_null());
}

TEST_F(RunLiveTest, ARestartedSimulationResumesToo) {
  const std::vector<std::string> args = {
      "run",        "--machines", "2",      "--speed", "0",    "--duration",     "2s",
      "--learning", "1s",         "--http", "off",     "--db", dir_ + "/sim.db", "--quiet"};
  auto first = RunCli(args);
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_THAT(first.err, HasSubstr("machine 'm1': baseline v1 stored (50 windows"));
  auto second = RunCli(args);
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_THAT(second.err, HasSubstr("machine 'm2': resumes with its stored baseline v1"));
  EXPECT_THAT(second.err, ::testing::Not(HasSubstr("stored (")));
}

// A machine with a bearing and a shaft speed (machines file): its learned
// baseline keeps the statistics of the envelope amplitudes (shown by
// `baseline show`, stored, resumed after a restart, kept by `baseline
// retrain`), so the alarm of its outer-race fault (impacts at 107 Hz, BPFO of
// the 6205 at 1797 rpm) names BPFO.
TEST_F(RunLiveTest, BearingEvidenceSurvivesARestartAndNamesBpfo) {
  const std::string file = dir_ + "/machines.toml";
  std::ofstream(file) << "[machines.pump-3]\nrpm = 1797\nbearing = \"6205\"\n";
  auto run = [&](int from, int to) {
    const std::string events = dir_ + "/events-" + std::to_string(from) + ".jsonl";
    std::ofstream(events) << FanAndPumpEvents(from, to);
    // 0.1 s windows (10 Hz lines: BPFO 107 Hz and BPFI 162 Hz apart; the
    // default 512 samples, 50 Hz lines, do not tell them apart), every 25 ms.
    return RunCli({"run", "--from", "jsonl:" + events, "--machines-file", file, "--http", "off",
                   "--db", dir_ + "/live.db", "--learning", "2s", "--window", "2560", "--hop",
                   "640", "--quiet"});
  };
  auto first = run(0, 30);  // healthy: learns (events 0..19) and scores
  ASSERT_EQ(first.code, 0) << first.err;
  auto show = RunCli({"baseline", "show", "pump-3", "--db", dir_ + "/live.db", "--json"});
  ASSERT_EQ(show.code, 0) << show.err;
  const nlohmann::json learned = nlohmann::json::parse(show.out);
  std::vector<std::string> stats;
  for (const auto& s : learned["stats"]) stats.push_back(s["feature"]);
  EXPECT_THAT(stats, ::testing::Contains("env_bpfo_ax"));
  EXPECT_THAT(stats, ::testing::Contains("env_bpfi_ay"));
  EXPECT_THAT(stats, ::testing::Contains("log_rms_ax"));  // and the model features
  auto text = RunCli({"baseline", "show", "pump-3", "--db", dir_ + "/live.db"});
  EXPECT_THAT(text.out, HasSubstr("env_bpfo_ax"));
  EXPECT_TRUE(Alarms().empty());

  auto second = run(30, 60);  // the fault from event 40, scored by the stored baseline
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_THAT(second.err, ::testing::Not(HasSubstr("stored (")));  // nothing learned again
  const nlohmann::json alarms = Alarms();
  ASSERT_GE(alarms.size(), 1u) << second.err;
  const auto& a = alarms.back();
  EXPECT_EQ(a["machine"], "pump-3");
  EXPECT_EQ(a["explanation"]["bearing"]["standing_out"], "BPFO") << a["explanation_text"];
  EXPECT_THAT(a["explanation_text"].get<std::string>(), HasSubstr("BPFO stands out"));

  // Retraining from the stored windows keeps the envelope statistics.
  auto retrain = RunCli(
      {"baseline", "retrain", "pump-3", "--db", dir_ + "/live.db", "--to", "2026-01-01T00:00:03Z"});
  ASSERT_EQ(retrain.code, 0) << retrain.err;
  show = RunCli({"baseline", "show", "pump-3", "--db", dir_ + "/live.db", "--json"});
  ASSERT_EQ(show.code, 0) << show.err;
  const nlohmann::json retrained = nlohmann::json::parse(show.out);
  EXPECT_EQ(retrained["version"], 2);
  stats.clear();
  for (const auto& s : retrained["stats"]) stats.push_back(s["feature"]);
  EXPECT_THAT(stats, ::testing::Contains("env_bpfo_ax"));
}

}  // namespace
}  // namespace mh::app
