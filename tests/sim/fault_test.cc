#include "sim/fault.h"

#include <string>

#include <gtest/gtest.h>

namespace mh::sim {
namespace {

TEST(FaultKindTest, NamesRoundTrip) {
  const FaultKind kinds[] = {FaultKind::kNone,         FaultKind::kOuterRace,
                             FaultKind::kInnerRace,    FaultKind::kImbalance,
                             FaultKind::kMisalignment, FaultKind::kLooseness};
  const char* names[] = {"none",      "outer-race",   "inner-race",
                         "imbalance", "misalignment", "looseness"};
  for (int i = 0; i < 6; ++i) {
    EXPECT_STREQ(FaultKindName(kinds[i]), names[i]);
    auto parsed = ParseFaultKind(names[i]);
    ASSERT_TRUE(parsed.ok()) << names[i];
    EXPECT_EQ(*parsed, kinds[i]);
  }
}

TEST(FaultKindTest, SerializedValuesAreFixed) {
  EXPECT_EQ(static_cast<int>(FaultKind::kNone), 0);
  EXPECT_EQ(static_cast<int>(FaultKind::kOuterRace), 1);
  EXPECT_EQ(static_cast<int>(FaultKind::kInnerRace), 2);
  EXPECT_EQ(static_cast<int>(FaultKind::kImbalance), 3);
  EXPECT_EQ(static_cast<int>(FaultKind::kMisalignment), 4);
  EXPECT_EQ(static_cast<int>(FaultKind::kLooseness), 5);
}

TEST(FaultKindTest, RejectsUnknownAndListsValidKinds) {
  for (const char* bad : {"", "Outer-Race", "outer_race", "outer-race ", "bearing"}) {
    auto parsed = ParseFaultKind(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_TRUE(parsed.status().IsInvalidArgument());
    EXPECT_NE(parsed.status().message().find("outer-race, inner-race, imbalance"),
              std::string::npos)
        << parsed.status().message();
  }
}

TEST(FaultSpecTest, ParsesMachineKindStartAndRamp) {
  auto a = ParseFaultSpec("3:outer-race");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->machine, 3);
  EXPECT_EQ(a->kind, FaultKind::kOuterRace);
  EXPECT_EQ(a->start_s, 0.0);
  EXPECT_EQ(a->ramp_s, 60.0);

  auto b = ParseFaultSpec("3:outer-race@40s");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->start_s, 40.0);
  EXPECT_EQ(b->ramp_s, 60.0);

  auto c = ParseFaultSpec("2:imbalance@1m");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->machine, 2);
  EXPECT_EQ(c->kind, FaultKind::kImbalance);
  EXPECT_EQ(c->start_s, 60.0);

  auto d = ParseFaultSpec("12:looseness@1.5/2m");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->machine, 12);
  EXPECT_EQ(d->kind, FaultKind::kLooseness);
  EXPECT_EQ(d->start_s, 1.5);
  EXPECT_EQ(d->ramp_s, 120.0);

  auto e = ParseFaultSpec("1:misalignment@0s/0s");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->ramp_s, 0.0);
}

TEST(FaultSpecTest, RejectsMalformedSpecsNamingThePart) {
  struct Case {
    const char* text;
    const char* mentions;
  };
  const Case cases[] = {
      {"outer-race", "MACHINE:KIND"},    {"0:outer-race", "machine '0'"},
      {"-1:outer-race", "machine '-1'"}, {"x:imbalance", "machine 'x'"},
      {":imbalance", "machine ''"},      {"3:foo", "unknown fault kind 'foo'"},
      {"3:", "unknown fault kind ''"},   {"3:outer-race@", "start"},
      {"3:outer-race@abc", "start"},     {"3:outer-race@-5s", "start"},
      {"3:outer-race@40s/", "ramp"},     {"3:outer-race@40s/zz", "ramp"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseFaultSpec(c.text);
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_TRUE(parsed.status().IsInvalidArgument()) << c.text;
    EXPECT_NE(parsed.status().message().find(c.mentions), std::string::npos)
        << c.text << " -> " << parsed.status().message();
  }
}

TEST(FaultSeverityTest, ZeroBeforeStartLinearRampThenOne) {
  FaultSpec spec{1, FaultKind::kOuterRace, 40.0, 60.0};
  EXPECT_EQ(FaultSeverity(spec, 0.0), 0.0);
  EXPECT_EQ(FaultSeverity(spec, 39.999), 0.0);
  EXPECT_EQ(FaultSeverity(spec, 40.0), 0.0);
  EXPECT_DOUBLE_EQ(FaultSeverity(spec, 55.0), 0.25);
  EXPECT_DOUBLE_EQ(FaultSeverity(spec, 70.0), 0.5);
  EXPECT_EQ(FaultSeverity(spec, 100.0), 1.0);
  EXPECT_EQ(FaultSeverity(spec, 1e6), 1.0);
  FaultSpec step{1, FaultKind::kImbalance, 5.0, 0.0};
  EXPECT_EQ(FaultSeverity(step, 4.9), 0.0);
  EXPECT_EQ(FaultSeverity(step, 5.0), 1.0);
  FaultSpec healthy{1, FaultKind::kNone, 0.0, 0.0};
  EXPECT_EQ(FaultSeverity(healthy, 100.0), 0.0);
}

}  // namespace
}  // namespace mh::sim
