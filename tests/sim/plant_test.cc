#include "sim/plant.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace mh::sim {
namespace {

TEST(PlantTest, BuildsNamedMachinesWithDistinctSeeds) {
  PlantOptions options;
  options.machines = 5;
  options.sample_rate_hz = 12800;
  options.seed = 9;
  options.faults = {FaultSpec{2, FaultKind::kLooseness, 10, 20}};
  auto plant = MakePlant(options);
  ASSERT_TRUE(plant.ok()) << plant.status().ToString();
  ASSERT_EQ(plant->size(), 5u);
  std::set<std::uint64_t> seeds;
  for (int i = 0; i < 5; ++i) {
    const MachineConfig& c = (*plant)[static_cast<std::size_t>(i)];
    EXPECT_EQ(c.machine_id, "m" + std::to_string(i + 1));
    EXPECT_EQ(c.sensor_id, "m" + std::to_string(i + 1) + "-de");
    EXPECT_EQ(c.sample_rate_hz, 12800);
    EXPECT_NEAR(c.shaft_hz, 29.95, 29.95 * 0.01 + 1e-12);
    seeds.insert(c.seed);
    if (i == 1) {
      EXPECT_EQ(c.fault.kind, FaultKind::kLooseness);
      EXPECT_EQ(c.fault.start_s, 10);
      EXPECT_EQ(c.fault.ramp_s, 20);
    } else {
      EXPECT_EQ(c.fault.kind, FaultKind::kNone);
    }
  }
  EXPECT_EQ(seeds.size(), 5u);
}

TEST(PlantTest, SameSeedSamePlantOtherSeedOtherPlant) {
  PlantOptions options;
  auto a = MakePlant(options);
  auto b = MakePlant(options);
  options.seed = 2;
  auto c = MakePlant(options);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  for (std::size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].seed, (*b)[i].seed);
    EXPECT_EQ((*a)[i].shaft_hz, (*b)[i].shaft_hz);
    EXPECT_NE((*a)[i].seed, (*c)[i].seed);
  }
}

TEST(PlantTest, RejectsBadOptionsNamingTheProblem) {
  struct Case {
    PlantOptions options;
    const char* mentions;
  };
  auto with = [](auto change) {
    PlantOptions o;
    change(o);
    return o;
  };
  const Case cases[] = {
      {with([](PlantOptions& o) { o.machines = 0; }), "machines"},
      {with([](PlantOptions& o) { o.sample_rate_hz = -1; }), "sample rate"},
      {with([](PlantOptions& o) { o.sample_rate_hz = 0; }), "sample rate"},
      {with([](PlantOptions& o) {
         o.faults = {FaultSpec{9, FaultKind::kOuterRace, 0, 60}};
       }),
       "machine 9 is not in 1..4"},
      {with([](PlantOptions& o) {
         o.faults = {FaultSpec{0, FaultKind::kOuterRace, 0, 60}};
       }),
       "machine 0 is not in 1..4"},
      {with([](PlantOptions& o) {
         o.faults = {FaultSpec{2, FaultKind::kOuterRace, 0, 60},
                     FaultSpec{2, FaultKind::kImbalance, 0, 60}};
       }),
       "already has a fault"},
      {with([](PlantOptions& o) {
         o.faults = {FaultSpec{1, FaultKind::kNone, 0, 60}};
       }),
       "none"},
      {with([](PlantOptions& o) {
         o.faults = {FaultSpec{1, FaultKind::kImbalance, -1, 60}};
       }),
       "start"},
  };
  for (const Case& c : cases) {
    auto plant = MakePlant(c.options);
    ASSERT_FALSE(plant.ok()) << c.mentions;
    EXPECT_TRUE(plant.status().IsInvalidArgument());
    EXPECT_NE(plant.status().message().find(c.mentions), std::string::npos)
        << plant.status().message();
  }
}

TEST(PlantTest, DemoFaultsStartAfterTheLearningStretch) {
  const std::vector<FaultSpec> faults = DemoFaults();
  ASSERT_EQ(faults.size(), 2u);
  EXPECT_EQ(faults[0].machine, 3);
  EXPECT_EQ(faults[0].kind, FaultKind::kOuterRace);
  EXPECT_EQ(faults[1].machine, 4);
  EXPECT_EQ(faults[1].kind, FaultKind::kImbalance);
  for (const FaultSpec& f : faults) {
    EXPECT_GT(f.start_s, 30.0);
    EXPECT_GT(f.ramp_s, 0.0);
  }
  PlantOptions options;
  options.faults = faults;
  EXPECT_TRUE(MakePlant(options).ok());
}

}  // namespace
}  // namespace mh::sim
