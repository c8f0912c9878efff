// The registry: the documented example file, defaults precedence, first-sight
// registration (also from several threads), List order, derived values.
#include "registry/registry.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/test_paths.h"

namespace mh::registry {
namespace {

using namespace std::chrono_literals;

std::string ExamplePath() { return mh::testing::SourceDir() + "/deploy/machines.toml"; }

std::unique_ptr<Registry> MustParse(const std::string& text) {
  auto r = Registry::Parse(text, "t.toml");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(*r) : Registry::BuiltIn();
}

TEST(RegistryExample, DocumentedFileParsesToTheDocumentedValues) {
  auto loaded = Registry::Load(ExamplePath());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  Registry& r = **loaded;
  std::vector<MachinePtr> all = r.List();
  ASSERT_EQ(all.size(), 4u);
  // File order, not toml++'s sorted key order.
  EXPECT_EQ(all[0]->id, "pump-7");
  EXPECT_EQ(all[1]->id, "fan-3");
  EXPECT_EQ(all[2]->id, "rig/bearing-1");
  EXPECT_EQ(all[3]->id, "motor-1");

  const MachineConfig& pump = *all[0];
  EXPECT_TRUE(pump.from_file);
  EXPECT_EQ(pump.first_seen_ns, 0);
  EXPECT_EQ(pump.name, "Pump 7");
  EXPECT_EQ(pump.location, "hall 2, line B");
  EXPECT_EQ(pump.fs_hz, 25600);  // [defaults]
  EXPECT_EQ(pump.channels, (std::vector<std::string>{"ax", "ay", "az"}));
  EXPECT_EQ(pump.unit, SampleUnit::kG);
  EXPECT_EQ(pump.shaft.source, ShaftSpeedSource::kFixed);
  EXPECT_EQ(pump.shaft.rpm, 1797);
  EXPECT_DOUBLE_EQ(pump.shaft.shaft_hz, 1797.0 / 60);
  EXPECT_EQ(pump.bearing.name, "6205");
  ASSERT_TRUE(pump.bearing.geometry.has_value());
  EXPECT_EQ(pump.bearing.geometry->rolling_elements, 9);
  // CWRU's published defect multiples of the shaft speed for the 6205-2RS
  // drive-end bearing: BPFO 3.5848, BPFI 5.4152, FTF 0.39828, BSF 2.357
  // (the table's 4.7135 is 2 x BSF).
  ASSERT_TRUE(pump.bearing.frequencies.has_value());
  const double fr = 1797.0 / 60;
  EXPECT_NEAR(pump.bearing.frequencies->bpfo_hz / fr, 3.5848, 2e-3);
  EXPECT_NEAR(pump.bearing.frequencies->bpfi_hz / fr, 5.4152, 2e-3);
  EXPECT_NEAR(pump.bearing.frequencies->ftf_hz / fr, 0.39828, 2e-3);
  EXPECT_NEAR(2 * pump.bearing.frequencies->bsf_hz / fr, 4.7135, 3e-3);
  EXPECT_EQ(pump.iso_group, features::IsoGroup::kGroup2);
  EXPECT_EQ(pump.foundation, features::Foundation::kRigid);
  EXPECT_FALSE(pump.learning.in_windows);
  EXPECT_EQ(pump.learning.duration, 10min);
  EXPECT_EQ(pump.alarm.k, 3);
  EXPECT_EQ(pump.alarm.n, 5);
  EXPECT_EQ(pump.alarm.m, 5);
  EXPECT_EQ(pump.threshold.rule, score::ThresholdRule::kQuantileMargin);
  EXPECT_EQ(pump.threshold.q, 0.005);
  EXPECT_EQ(pump.threshold.margin, 0.05);
  EXPECT_EQ(pump.model, "");
  EXPECT_EQ(pump.file_line, 21);

  const MachineConfig& fan = *all[1];
  EXPECT_EQ(fan.location, "plant 1");  // [defaults]
  EXPECT_EQ(fan.shaft.source, ShaftSpeedSource::kEventField);
  EXPECT_EQ(fan.shaft.field, "shaft_rpm");
  EXPECT_EQ(fan.foundation, features::Foundation::kFlexible);
  EXPECT_EQ(fan.bearing.name, "custom");
  ASSERT_TRUE(fan.bearing.geometry.has_value());
  EXPECT_EQ(fan.bearing.geometry->rolling_elements, 8);
  EXPECT_EQ(fan.bearing.geometry->element_diameter, 7.94);
  EXPECT_EQ(fan.bearing.geometry->pitch_diameter, 39.04);
  EXPECT_EQ(fan.bearing.geometry->contact_angle_deg, 0);
  EXPECT_FALSE(fan.bearing.frequencies.has_value());  // speed known per event only
  EXPECT_EQ(fan.alarm.k, 4);
  EXPECT_EQ(fan.alarm.n, 6);
  EXPECT_EQ(fan.alarm.m, 5);  // from [defaults], key by key

  const MachineConfig& rig = *all[2];
  EXPECT_EQ(rig.fs_hz, 51200);
  EXPECT_EQ(rig.channels, (std::vector<std::string>{"horiz", "vert"}));
  EXPECT_EQ(rig.bearing.name, "femto");
  EXPECT_EQ(rig.bearing.geometry->rolling_elements, 13);
  EXPECT_DOUBLE_EQ(rig.shaft.shaft_hz, 30);
  EXPECT_TRUE(rig.learning.in_windows);
  EXPECT_EQ(rig.learning.windows, 100u);
  EXPECT_EQ(rig.threshold.rule, score::ThresholdRule::kRobustZ);
  EXPECT_EQ(rig.threshold.z, 4);

  const MachineConfig& motor = *all[3];
  EXPECT_EQ(motor.iso_group, features::IsoGroup::kGroup1);
  EXPECT_EQ(motor.unit, SampleUnit::kMetersPerS2);
  EXPECT_EQ(motor.shaft.source, ShaftSpeedSource::kNone);
  EXPECT_EQ(motor.bearing.name, "");
  EXPECT_FALSE(motor.bearing.geometry.has_value());

  // Defaults for sensors the file does not list.
  EXPECT_EQ(r.defaults().location, "plant 1");
  EXPECT_EQ(r.defaults().fs_hz, 25600);
  EXPECT_EQ(r.defaults().learning.duration, 10min);
}

TEST(RegistryDefaults, BuiltInValuesAreTheStagesDefaults) {
  auto r = Registry::BuiltIn();
  MachinePtr m = r->Lookup("s1", 42);
  EXPECT_EQ(m->id, "s1");
  EXPECT_EQ(m->name, "s1");
  EXPECT_FALSE(m->from_file);
  EXPECT_EQ(m->first_seen_ns, 42);
  EXPECT_EQ(m->fs_hz, 0);  // as each event says
  EXPECT_TRUE(m->channels.empty());
  // One place for each default: the alarm and score stages' own structs.
  const alarm::AlarmRule alarm;
  EXPECT_EQ(m->alarm.k, alarm.k);
  EXPECT_EQ(m->alarm.n, alarm.n);
  EXPECT_EQ(m->alarm.m, alarm.m);
  const score::LearnOptions learn;
  EXPECT_EQ(m->threshold.rule, learn.threshold.rule);
  EXPECT_EQ(m->threshold.q, learn.threshold.q);
  EXPECT_EQ(m->threshold.margin, learn.threshold.margin);
  EXPECT_EQ(m->threshold.z, learn.threshold.z);
  EXPECT_TRUE(m->learning.in_windows);
  EXPECT_EQ(m->learning.windows, learn.learning_windows);
  EXPECT_EQ(m->iso_group, features::IsoGroup::kGroup2);
  EXPECT_EQ(m->foundation, features::Foundation::kRigid);
  EXPECT_EQ(m->unit, SampleUnit::kG);
  EXPECT_EQ(r->path(), "");
}

TEST(RegistryDefaults, BaseValuesSitUnderDefaults) {
  // What the command line gives (e.g. --learning-windows, --alarm) is the
  // base; [defaults] and the machine's table override it.
  MachineConfig base;
  base.learning.windows = 50;
  base.alarm.k = 2;
  base.fs_hz = 8000;
  auto r = Registry::Parse("[defaults]\nfs_hz = 12000\n[machines.a]\nalarm = { n = 9 }\n", "t.toml",
                           base);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  MachinePtr a = (*r)->Lookup("a", 1);
  EXPECT_EQ(a->learning.windows, 50u);
  EXPECT_EQ(a->alarm.k, 2);
  EXPECT_EQ(a->alarm.n, 9);
  EXPECT_EQ(a->fs_hz, 12000);
  EXPECT_EQ((*r)->Lookup("other", 1)->alarm.k, 2);
  auto no_file = Registry::BuiltIn(base);
  EXPECT_EQ(no_file->Lookup("x", 1)->fs_hz, 8000);
  EXPECT_EQ(no_file->Lookup("x", 1)->name, "x");
}

TEST(RegistryDefaults, MachineOverDefaultsOverBuiltIn) {
  auto r = MustParse(R"(
[defaults]
fs_hz = 12000
rpm_field = "speed"
learning = 200
alarm = { n = 8, m = 9 }
threshold = { rule = "quantile-margin", margin = 0.02 }
[machines.a]
fs_hz = 48000
rpm = 1500
alarm = { k = 6 }
threshold = { q = 0.01 }
[machines.b]
threshold = { rule = "auto" }
)");
  MachinePtr a = r->Lookup("a", 1);
  MachinePtr b = r->Lookup("b", 1);
  EXPECT_EQ(a->fs_hz, 48000);                            // machine
  EXPECT_EQ(b->fs_hz, 12000);                            // [defaults]
  EXPECT_EQ(a->shaft.source, ShaftSpeedSource::kFixed);  // rpm wins over the default field
  EXPECT_EQ(a->shaft.rpm, 1500);
  EXPECT_EQ(b->shaft.source, ShaftSpeedSource::kEventField);
  EXPECT_EQ(b->shaft.field, "speed");
  EXPECT_EQ(a->alarm.k, 6);  // machine
  EXPECT_EQ(a->alarm.n, 8);  // [defaults]
  EXPECT_EQ(a->alarm.m, 9);
  EXPECT_EQ(b->alarm.k, 3);                                             // built in
  EXPECT_EQ(a->threshold.rule, score::ThresholdRule::kQuantileMargin);  // [defaults]
  EXPECT_EQ(a->threshold.q, 0.01);                                      // machine
  EXPECT_EQ(a->threshold.margin, 0.02);                                 // [defaults], key by key
  EXPECT_EQ(b->threshold.rule, score::ThresholdRule::kAuto);
  EXPECT_TRUE(b->learning.in_windows);
  EXPECT_EQ(b->learning.windows, 200u);
  EXPECT_EQ(b->unit, SampleUnit::kG);  // built in
  EXPECT_EQ(b->name, "b");             // the id when not given
  // A first-sight sensor gets [defaults] too.
  MachinePtr c = r->Lookup("c", 7);
  EXPECT_FALSE(c->from_file);
  EXPECT_EQ(c->fs_hz, 12000);
  EXPECT_EQ(c->shaft.field, "speed");
  EXPECT_EQ(c->first_seen_ns, 7);
}

TEST(RegistryDefaults, NoneBearingOverridesADefaultBearing) {
  auto r = MustParse(R"(
[defaults]
bearing = "za2115"
rpm = 2000
[machines.a]
bearing = "none"
[machines.b]
)");
  EXPECT_EQ(r->Lookup("a", 1)->bearing.name, "");
  EXPECT_FALSE(r->Lookup("a", 1)->bearing.geometry.has_value());
  MachinePtr b = r->Lookup("b", 1);
  EXPECT_EQ(b->bearing.name, "za2115");
  ASSERT_TRUE(b->bearing.frequencies.has_value());
  auto expect =
      features::ComputeBearingFrequencies(*features::LookupBearing("za2115"), 2000 / 60.0);
  ASSERT_TRUE(expect.ok());
  EXPECT_DOUBLE_EQ(b->bearing.frequencies->bpfi_hz, expect->bpfi_hz);
}

TEST(RegistryModel, RelativePathIsResolvedFromTheFileAndMustExist) {
  const std::string dir = mh::testing::MakeTempDir("registry_model");
  std::ofstream(dir + "/m.mhm") << "x";
  std::ofstream(dir + "/machines.toml") << "[machines.a]\nmodel = \"m.mhm\"\n"
                                        << "[machines.b]\nmodel = \"missing.joblib\"\n";
  auto loaded = Registry::Load(dir + "/machines.toml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().message(),
            dir + "/machines.toml:4:9: machines.b.model: no such file '" + dir +
                "/missing.joblib' (a model file from `machine-health train` or a scikit-learn "
                ".joblib; relative paths are from the machines file's folder)");
  std::ofstream(dir + "/machines.toml") << "[machines.a]\nmodel = \"m.mhm\"\n";
  loaded = Registry::Load(dir + "/machines.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->Lookup("a")->model, dir + "/m.mhm");
}

TEST(RegistryLoad, MissingFileIsNotFound) {
  auto loaded = Registry::Load("/nonexistent/machines.toml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(loaded.status().IsNotFound());
  EXPECT_EQ(loaded.status().message(), "/nonexistent/machines.toml: no such file");
}

TEST(RegistryLoad, FolderAndOversizedFileAreRefused) {
  const std::string dir = mh::testing::MakeTempDir("registry_load");
  auto folder = Registry::Load(dir);
  ASSERT_FALSE(folder.ok());
  EXPECT_EQ(folder.status().message(), dir + ": is a folder (give the machines file)");
  const std::string big = dir + "/big.toml";
  {
    std::ofstream out(big);
    out << "# " << std::string(kMaxMachinesFileBytes, 'x') << "\n";
  }
  auto large = Registry::Load(big);
  ASSERT_FALSE(large.ok());
  EXPECT_TRUE(large.status().IsInvalidArgument());
  EXPECT_NE(large.status().message().find("too large for a machines file"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(RegistryFirstSight, ListsFileMachinesThenNewOnesInOrderOfAppearance) {
  auto r = MustParse("[machines.z]\n[machines.a]\n");
  EXPECT_EQ(r->Lookup("new-2", 5)->first_seen_ns, 5);
  EXPECT_EQ(r->Lookup("a", 6)->first_seen_ns, 0);  // from the file
  EXPECT_EQ(r->Lookup("new-1", 7)->first_seen_ns, 7);
  EXPECT_EQ(r->Lookup("new-2", 9)->first_seen_ns, 5);  // registered once
  std::vector<std::string> ids;
  for (const MachinePtr& m : r->List()) ids.push_back(m->id);
  EXPECT_EQ(ids, (std::vector<std::string>{"z", "a", "new-2", "new-1"}));
  // Peek registers nothing.
  MachinePtr p = r->Peek("ghost");
  EXPECT_FALSE(p->from_file);
  EXPECT_EQ(p->first_seen_ns, 0);
  EXPECT_EQ(r->List().size(), 4u);
  EXPECT_EQ(r->Peek("new-1")->first_seen_ns, 7);
}

TEST(RegistryFirstSight, ManyThreadsRegisterEachSensorOnce) {
  auto r = MustParse("[machines.file-1]\n");
  constexpr int kThreads = 8;
  constexpr int kSensors = 200;
  std::atomic<int> ready{0};
  std::vector<std::vector<MachinePtr>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      // Each thread walks the sensors in its own order.
      for (int i = 0; i < kSensors; ++i) {
        const int s = (i * 7 + t * 31) % kSensors;
        got[t].push_back(r->Lookup("s" + std::to_string(s), 1000 + t));
        got[t].push_back(r->Lookup("file-1", 1000 + t));
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<MachinePtr> all = r->List();
  ASSERT_EQ(all.size(), 1u + kSensors);
  EXPECT_EQ(all[0]->id, "file-1");
  std::set<std::string> ids;
  for (const MachinePtr& m : all) ids.insert(m->id);
  EXPECT_EQ(ids.size(), all.size());
  // Every thread got the one registered config of each sensor.
  for (int t = 0; t < kThreads; ++t) {
    for (const MachinePtr& m : got[t]) {
      EXPECT_EQ(m, r->Peek(m->id)) << m->id;
      EXPECT_EQ(m->from_file, m->id == "file-1");
      if (!m->from_file) {
        EXPECT_GE(m->first_seen_ns, 1000);
      }
    }
  }
}

TEST(RegistryFirstSight, StopsKeepingNewSensorsAtTheCap) {
  auto r = Registry::BuiltIn();
  for (std::size_t i = 0; i < kMaxFirstSightMachines; ++i) {
    ASSERT_FALSE(r->Lookup("s" + std::to_string(i), 1)->from_file);
  }
  MachinePtr over = r->Lookup("one-too-many", 2);
  ASSERT_NE(over, nullptr);
  EXPECT_EQ(over->id, "one-too-many");
  EXPECT_EQ(over->first_seen_ns, 2);
  EXPECT_EQ(r->List().size(), kMaxFirstSightMachines);
  EXPECT_EQ(r->List().back()->id, "s" + std::to_string(kMaxFirstSightMachines - 1));
  // Those kept are still found.
  EXPECT_EQ(r->Lookup("s0", 3)->first_seen_ns, 1);
}

TEST(RegistryDerived, LearningWindowsFromADuration) {
  Learning l;
  l.in_windows = false;
  l.duration = 30s;
  EXPECT_EQ(LearningWindows(l, 100ms), 300u);
  EXPECT_EQ(LearningWindows(l, 7s), 5u);  // ceil(30 / 7)
  EXPECT_EQ(LearningWindows(l, 1h), 1u);
  l.in_windows = true;
  l.windows = 12;
  EXPECT_EQ(LearningWindows(l, 100ms), 12u);
  EXPECT_EQ(LearningText(l), "12 windows");
  l.in_windows = false;
  l.duration = 1h + 30min;
  EXPECT_EQ(LearningText(l), "1h30m");
  l.duration = 2500ms;
  EXPECT_EQ(LearningText(l), "2s500ms");
}

TEST(RegistryJson, StableKeysAndValues) {
  auto loaded = Registry::Load(ExamplePath());
  ASSERT_TRUE(loaded.ok());
  nlohmann::json j = nlohmann::json::parse(MachineJson(*(*loaded)->Lookup("pump-7")));
  std::vector<std::string> keys;
  for (auto& [k, v] : j.items()) keys.push_back(k);
  // nlohmann sorts keys; the set is the contract.
  EXPECT_EQ(keys,
            (std::vector<std::string>{"alarm", "bearing", "channels", "first_seen", "foundation",
                                      "from_file", "fs_hz", "id", "iso_group", "learning",
                                      "location", "model", "name", "shaft", "threshold", "unit"}));
  EXPECT_EQ(j["id"], "pump-7");
  EXPECT_EQ(j["from_file"], true);
  EXPECT_TRUE(j["first_seen"].is_null());
  EXPECT_EQ(j["fs_hz"], 25600);
  EXPECT_EQ(j["shaft"]["source"], "fixed");
  EXPECT_EQ(j["shaft"]["rpm"], 1797);
  EXPECT_DOUBLE_EQ(j["shaft"]["shaft_hz"].get<double>(), 29.95);
  EXPECT_TRUE(j["shaft"]["rpm_field"].is_null());
  EXPECT_EQ(j["bearing"]["name"], "6205");
  EXPECT_NEAR(j["bearing"]["frequencies_hz"]["bpfo"].get<double>(), 3.5848 * 29.95, 0.1);
  EXPECT_EQ(j["iso_group"], 2);
  EXPECT_EQ(j["foundation"], "rigid");
  EXPECT_TRUE(j["learning"]["windows"].is_null());
  EXPECT_EQ(j["learning"]["duration_s"], 600);
  EXPECT_EQ(j["alarm"], (nlohmann::json{{"k", 3}, {"n", 5}, {"m", 5}}));
  EXPECT_EQ(j["threshold"]["rule"], "quantile-margin");
  EXPECT_EQ(j["threshold"]["q"], 0.005);
  EXPECT_EQ(j["threshold"]["margin"], 0.05);
  EXPECT_TRUE(j["threshold"]["z"].is_null());
  EXPECT_TRUE(j["model"].is_null());
  nlohmann::json seen =
      nlohmann::json::parse(MachineJson(*(*loaded)->Lookup("x", 1'790'000'000'000'000'000)));
  EXPECT_EQ(seen["from_file"], false);
  EXPECT_EQ(seen["first_seen"], "2026-09-21T14:13:20.000Z");
}

}  // namespace
}  // namespace mh::registry
