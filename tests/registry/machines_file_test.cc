// Validation of the machines file: every problem is an InvalidArgument whose
// line names file:line:column, the key path and what to give instead.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "registry/registry.h"

namespace mh::registry {
namespace {

struct Case {
  const char* name;
  const char* text;
  const char* message;  // the whole status message
};

// Columns are 1-based; a value's column is where the value starts, an
// unknown key's where the key starts.
const Case kCases[] = {
    {"unknown_key_with_suggestion", "[machines.m1]\nfs_hx = 25600\n",
     "m.toml:2:1: machines.m1.fs_hx: unknown key (did you mean 'fs_hz'? known keys: name, "
     "location, fs_hz, channels, unit, rpm, rpm_field, bearing, iso_group, foundation, learning, "
     "alarm, threshold, model)"},
    {"unknown_top_level_table", "[pump-7]\nrpm = 3\n",
     "m.toml:1:2: pump-7: unknown key (a machine is a table [machines.pump-7])"},
    {"unknown_top_level_key", "version = 1\n",
     "m.toml:1:1: version: unknown key (the file has [defaults] and [machines.<id>] tables "
     "only)"},
    {"wrong_type_fs", "[machines.m1]\nfs_hz = \"fast\"\n",
     "m.toml:2:9: machines.m1.fs_hz: expected a number, got a string (the sampling rate in Hz, "
     "e.g. fs_hz = 25600)"},
    {"out_of_range_fs", "[machines.m1]\nfs_hz = -1\n",
     "m.toml:2:9: machines.m1.fs_hz: expected a number in (0, 1e7], got -1 (the sampling rate "
     "in Hz, e.g. fs_hz = 25600)"},
    {"nan_fs", "[machines.m1]\nfs_hz = nan\n",
     "m.toml:2:9: machines.m1.fs_hz: expected a finite number, got NaN (the sampling rate in "
     "Hz, e.g. fs_hz = 25600)"},
    {"unknown_bearing", "[machines.m1]\nbearing = \"6206\"\n",
     "m.toml:2:11: machines.m1.bearing: unknown bearing '6206' (built in: 6205, za2115, femto) "
     "(give a built-in name, \"none\", or the geometry as a table with rolling_elements, "
     "element_diameter, pitch_diameter and contact_angle_deg)"},
    {"bearing_geometry_incomplete",
     "[machines.m1]\nbearing = { rolling_elements = 9, element_diameter = 0.3 }\n",
     "m.toml:2:11: machines.m1.bearing: bearing geometry lacks pitch_diameter (a built-in name "
     "(\"6205\", \"za2115\", \"femto\"), \"none\", or the geometry: bearing = { rolling_elements = "
     "9, element_diameter = 7.94, pitch_diameter = 39.04, contact_angle_deg = 0 })"},
    {"bearing_pitch_smaller",
     "[machines.m1]\nbearing = { rolling_elements = 9, element_diameter = 2, pitch_diameter = 1 "
     "}\n",
     "m.toml:2:74: machines.m1.bearing.pitch_diameter: expected more than element_diameter (2), "
     "got 1 (D is the pitch diameter of the ball set, d the diameter of one ball)"},
    {"bearing_angle_range",
     "[machines.m1.bearing]\nrolling_elements = 9\nelement_diameter = 1\npitch_diameter = "
     "5\ncontact_angle_deg = 90\n",
     "m.toml:5:21: machines.m1.bearing.contact_angle_deg: expected a number in [0, 90), got 90 "
     "(the contact angle in degrees, 0 for deep-groove ball bearings)"},
    {"bearing_unknown_geometry_key",
     "[machines.m1]\nbearing = { balls = 9, element_diameter = 1, pitch_diameter = 5 }\n",
     "m.toml:2:11: machines.m1.bearing: bearing geometry lacks rolling_elements (a built-in "
     "name (\"6205\", \"za2115\", \"femto\"), \"none\", or the geometry: bearing = { "
     "rolling_elements = 9, element_diameter = 7.94, pitch_diameter = 39.04, contact_angle_deg = "
     "0 })\n"
     "m.toml:2:13: machines.m1.bearing.balls: unknown key (known keys: rolling_elements, "
     "element_diameter, pitch_diameter, contact_angle_deg)"},
    {"rpm_and_rpm_field", "[machines.m1]\nrpm = 1500\nrpm_field = \"speed\"\n",
     "m.toml:3:13: machines.m1: rpm and rpm_field are both given (give either rpm (a fixed shaft "
     "speed) or rpm_field (the event field carrying it), not both)"},
    {"rpm_and_rpm_field_in_defaults", "[defaults]\nrpm_field = \"speed\"\nrpm = 1500\n",
     "m.toml:3:7: defaults: rpm and rpm_field are both given (give either rpm (a fixed shaft "
     "speed) or rpm_field (the event field carrying it), not both)"},
    {"duplicate_id", "[machines.m1]\nrpm = 1\n\n[machines.m2]\n[machines.m1]\nrpm = 2\n",
     "m.toml:5:1: machines.m1: duplicate machine id 'm1', first defined at line 1 (give each "
     "machine one [machines.<id>] table: merge the two or rename one)"},
    {"duplicate_sub_table", "[machines.m1.alarm]\nk = 1\n[machines.m1.alarm]\nk = 2\n",
     "m.toml:3:1: syntax: error while parsing table header: cannot redefine existing table "
     "'machines.m1.alarm' (each table appears once; see docs/machines.md for the layout)"},
    {"duplicate_quoted_id", "[machines.\"a.b\"]\n[machines.\"a.b\"]\n",
     "m.toml:2:1: machines.\"a.b\": duplicate machine id 'a.b', first defined at line 1 (give "
     "each machine one [machines.<id>] table: merge the two or rename one)"},
    {"duplicate_key", "[machines.m1]\nrpm = 1\nrpm = 2\n",
     "m.toml:3:7: syntax: error while parsing key-value pair: cannot redefine existing integer "
     "'rpm' (see docs/machines.md for the layout)"},
    {"syntax_error", "[machines.m1\n",
     "m.toml:1:13: syntax: error while parsing table header: expected ']', saw '\\n' "
     "(see docs/machines.md for the layout)"},
    {"syntax_error_quoting_a_newline", "[machines.m1]\nx = t\n",
     "m.toml:2:6: syntax: error while parsing boolean: expected 'true', saw 't\\n' (see "
     "docs/machines.md for the layout)"},
    {"iso_group_3", "[machines.m1]\niso_group = 3\n",
     "m.toml:2:13: machines.m1.iso_group: unknown group 3 (groups 3 and 4 of ISO 10816-3, pumps, "
     "are not in ISO 20816-3 and not supported) (ISO 20816-3 group 1 (large machines, 300 kW to "
     "50 MW) or 2 (medium machines, 15 kW to 300 kW): iso_group = 2 or \"group2\")"},
    {"foundation_unknown", "[machines.m1]\nfoundation = \"soft\"\n",
     "m.toml:2:14: machines.m1.foundation: unknown foundation 'soft' (\"rigid\" or "
     "\"flexible\")"},
    {"unit_unknown", "[defaults]\nunit = \"in/s\"\n",
     "m.toml:2:8: defaults.unit: unknown unit 'in/s' (\"g\" or \"m/s^2\")"},
    {"velocity_unit", "[machines.m1]\nunit = \"mm/s\"\n",
     "m.toml:2:8: machines.m1.unit: unit \"mm/s\" (velocity) is not supported yet (the pipeline "
     "takes acceleration: \"g\" or \"m/s^2\")"},
    {"learning_zero", "[machines.m1]\nlearning = 0\n",
     "m.toml:2:12: machines.m1.learning: expected an integer in 1..10000000, got 0 (a number of "
     "windows (learning = 300) or a duration (learning = \"10m\"))"},
    {"learning_bad_duration", "[machines.m1]\nlearning = \"ten minutes\"\n",
     "m.toml:2:12: machines.m1.learning: expected a duration > 0, got 'ten minutes' (a number of "
     "windows (learning = 300) or a duration (learning = \"10m\"))"},
    {"alarm_k_more_than_n", "[defaults]\nalarm = { n = 4 }\n[machines.m1]\nalarm = { k = 5 }\n",
     "m.toml:4:15: machines.m1.alarm.k: k = 5 is more than n = 4 (k anomalous windows among the "
     "last n: give k <= n)"},
    {"alarm_float", "[machines.m1]\nalarm = { m = 2.5 }\n",
     "m.toml:2:15: machines.m1.alarm.m: expected an integer in 1..1000, got 2.5 (consecutive "
     "normal windows that close an alarm)"},
    {"threshold_q_range", "[machines.m1]\nthreshold = { rule = \"quantile\", q = 0.7 }\n",
     "m.toml:2:38: machines.m1.threshold.q: expected a number in (0, 0.5], got 0.7 (the share "
     "of training scores below the threshold, e.g. q = 0.005)"},
    {"threshold_param_of_other_rule", "[machines.m1]\nthreshold = { rule = \"auto\", q = 0.01 }\n",
     "m.toml:2:34: machines.m1.threshold.q: q applies to rules \"quantile\" and "
     "\"quantile-margin\", but the rule is \"auto\" (remove q or change the rule)"},
    {"threshold_margin_of_other_rule",
     "[defaults]\nthreshold = { rule = \"robust-z\" }\n[machines.m1]\nthreshold = { margin = 0.1 "
     "}\n",
     "m.toml:4:24: machines.m1.threshold.margin: margin applies to rule \"quantile-margin\", but "
     "the rule is \"robust-z\" (remove margin or set rule = \"quantile-margin\")"},
    {"threshold_unknown_rule", "[machines.m1]\nthreshold = { rule = \"iqr\" }\n",
     "m.toml:2:22: machines.m1.threshold.rule: unknown rule 'iqr' (\"auto\", \"quantile\", "
     "\"quantile-margin\" or \"robust-z\")"},
    {"name_in_defaults", "[defaults]\nname = \"x\"\n",
     "m.toml:2:1: defaults.name: a name is per machine (remove it from [defaults]; a machine "
     "without a name shows its id)"},
    {"channels_twice", "[machines.m1]\nchannels = [\"ax\", \"ax\"]\n",
     "m.toml:2:19: machines.m1.channels[1]: channel 'ax' given twice (name each channel once)"},
    {"machine_not_a_table", "[machines]\nm1 = 3\n",
     "m.toml:2:6: machines.m1: expected a table, got an integer (each machine is a "
     "[machines.<id>] table)"},
    {"quoted_id_in_path", "[machines.\"rig 1\"]\nrpm = 0\n",
     "m.toml:2:7: machines.\"rig 1\".rpm: expected a number in (0, 1e6], got 0 (the fixed shaft "
     "speed in revolutions per minute, e.g. rpm = 1797)"},
};

class MachinesFileError : public ::testing::TestWithParam<Case> {};

TEST_P(MachinesFileError, NamesLineColumnKeyAndRemedy) {
  const Case& c = GetParam();
  auto r = Registry::Parse(c.text, "m.toml");
  ASSERT_FALSE(r.ok()) << "accepted:\n" << c.text;
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_EQ(r.status().message(), c.message);
}

INSTANTIATE_TEST_SUITE_P(All, MachinesFileError, ::testing::ValuesIn(kCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(MachinesFile, ReportsEveryProblemOnItsOwnLine) {
  auto r = Registry::Parse("[machines.a]\nfs_hz = 0\n[machines.b]\nunit = 3\nrpmm = 1\n", "m.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "m.toml:2:9: machines.a.fs_hz: expected a number in (0, 1e7], got 0 (the sampling "
            "rate in Hz, e.g. fs_hz = 25600)\n"
            "m.toml:4:8: machines.b.unit: expected a string, got an integer (\"g\" or \"m/s^2\")\n"
            "m.toml:5:1: machines.b.rpmm: unknown key (did you mean 'rpm'? known keys: name, "
            "location, fs_hz, channels, unit, rpm, rpm_field, bearing, iso_group, foundation, "
            "learning, alarm, threshold, model)");
}

TEST(MachinesFile, BoundsTheNumberOfReportedProblems) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "[machines.m" + std::to_string(i) + "]\nfs_hz = 0\n";
  auto r = Registry::Parse(text, "m.toml");
  ASSERT_FALSE(r.ok());
  const std::string& msg = r.status().message();
  EXPECT_EQ(std::count(msg.begin(), msg.end(), '\n'), 20);
  EXPECT_NE(msg.find("\n... and 30 more"), std::string::npos);
}

TEST(MachinesFile, AcceptsEmptyFileAndTheStandardsNaming) {
  auto empty = Registry::Parse("", "m.toml");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE((*empty)->List().empty());
  auto named = Registry::Parse(
      "[machines.a]\niso_group = \"Group 1\"\nunit = \"m/s2\"\n[machines.b]\niso_group = "
      "\"group2\"\n",
      "m.toml");
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ((*named)->Lookup("a")->iso_group, features::IsoGroup::kGroup1);
  EXPECT_EQ((*named)->Lookup("a")->unit, SampleUnit::kMetersPerS2);
  EXPECT_EQ((*named)->Lookup("b")->iso_group, features::IsoGroup::kGroup2);
}

TEST(MachinesFile, HostileInputIsAnErrorNotACrash) {
  const std::vector<std::string> inputs = {
      std::string("\0\0\0", 3),
      "[[machines]]\nid = 1\n",
      "machines = [1, 2]\n",
      std::string(5000, '['),
      "a = " + std::string(3000, '[') + std::string(3000, ']'),
      "[machines.m1]\nname = \"\\u0001\"\n",
      "[machines.\"\"]\n",
      "\xff\xfe[machines.m1]\n",
      "[machines.m1]\nchannels = [1, [2]]\n",
      "[machines.m1]\nalarm = 3\nthreshold = []\nbearing = 2024-01-01\n",
  };
  for (const std::string& in : inputs) {
    auto r = Registry::Parse(in, "m.toml");
    ASSERT_FALSE(r.ok()) << in;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_EQ(r.status().message().rfind("m.toml:", 0), 0u) << r.status().message();
  }
}

}  // namespace
}  // namespace mh::registry
