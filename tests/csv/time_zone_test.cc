// Time zone conversions checked against Python's zoneinfo (an independent
// implementation over the same IANA data), run at test time.
#include "csv/time_zone.h"

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "testing/test_paths.h"

namespace mh::csv {
namespace {

constexpr const char* kScript = R"PY(
import datetime as dt, random, sys
from zoneinfo import ZoneInfo
random.seed(5)
zones = ["Europe/Stockholm", "America/New_York", "Australia/Sydney", "Asia/Kolkata",
         "America/Sao_Paulo", "Pacific/Chatham", "Europe/London", "America/St_Johns", "UTC"]
epoch = dt.datetime(1970, 1, 1)
for name in zones:
    z = ZoneInfo(name)
    locals_ = []
    # Every 15 minutes around this year's and a far future year's changes.
    for y in (2025, 2026, 2090):
        for (m, d) in ((3, 8), (3, 29), (4, 5), (9, 27), (10, 25), (11, 1)):
            start = dt.datetime(y, m, d)
            for k in range(0, 4 * 24 * 3, 1):
                locals_.append(start + dt.timedelta(minutes=15 * k))
    for _ in range(1500):
        locals_.append(epoch + dt.timedelta(seconds=random.randint(-2208988800, 4102444800)))
    for t in locals_:
        l = int((t - epoch).total_seconds())
        u0 = int(t.replace(tzinfo=z, fold=0).timestamp())
        u1 = int(t.replace(tzinfo=z, fold=1).timestamp())
        print("L", name, l, u0, u1)
    for _ in range(1500):
        u = random.randint(-2208988800, 4102444800)
        off = int(dt.datetime.fromtimestamp(u, z).utcoffset().total_seconds())
        print("U", name, u, off)
)PY";

TEST(TimeZone, MatchesPythonZoneinfo) {
  const std::string dir = mh::testing::MakeTempDir("mh-tz");
  ASSERT_FALSE(dir.empty());
  const std::string script = dir + "/tz.py";
  std::ofstream(script) << kScript;
  std::string out;
  ASSERT_EQ(mh::testing::RunCommand(mh::testing::ReferencePython() + " " + script, &out), 0);
  std::istringstream in(out);
  std::string tag, name, loaded;
  TimeZone zone;
  std::size_t checked = 0, ambiguous = 0, gaps = 0;
  while (in >> tag >> name) {
    if (name != loaded) {
      auto z = TimeZone::Load(name);
      ASSERT_TRUE(z.ok()) << z.status().ToString();
      zone = std::move(z).value();
      loaded = name;
    }
    if (tag == "L") {
      std::int64_t local = 0, u0 = 0, u1 = 0;
      in >> local >> u0 >> u1;
      auto earlier =
          zone.LocalToUtc(local, AmbiguousTime::kEarlier, NonexistentTime::kShiftForward);
      auto later = zone.LocalToUtc(local, AmbiguousTime::kLater, NonexistentTime::kShiftBackward);
      ASSERT_TRUE(earlier.ok() && later.ok());
      ASSERT_EQ(*earlier, u0) << name << " local " << local;
      ASSERT_EQ(*later, u1) << name << " local " << local;
      if (u0 != u1) {
        // Ambiguous when fold=0 is the earlier instant, a gap otherwise; the
        // strict policies refuse both.
        (u0 < u1 ? ambiguous : gaps) += 1;
        EXPECT_FALSE(zone.LocalToUtc(local, AmbiguousTime::kError, NonexistentTime::kError).ok());
      } else {
        EXPECT_TRUE(zone.LocalToUtc(local, AmbiguousTime::kError, NonexistentTime::kError).ok());
      }
    } else {
      std::int64_t utc = 0, off = 0;
      in >> utc >> off;
      ASSERT_EQ(zone.OffsetAt(utc), off) << name << " utc " << utc;
    }
    ++checked;
  }
  EXPECT_GT(checked, 30000u);
  EXPECT_GT(ambiguous, 20u);
  EXPECT_GT(gaps, 20u);
}

TEST(TimeZone, UtcNeedsNoFile) {
  auto z = TimeZone::Load("UTC");
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->OffsetAt(1761523205), 0);
  EXPECT_EQ(*z->LocalToUtc(12345), 12345);
}

TEST(TimeZone, RejectsMalformedTzif) {
  EXPECT_TRUE(TimeZone::FromTzif("x", "").status().IsCorruption());
  EXPECT_TRUE(TimeZone::FromTzif("x", "TZif2 garbage").status().IsCorruption());
  std::string header = "TZif2";
  header.resize(44, '\xff');  // counts of -1
  EXPECT_TRUE(TimeZone::FromTzif("x", header).status().IsCorruption());
}

TEST(TimeZone, BadNames) {
  EXPECT_TRUE(TimeZone::Load("Europe/../../etc/passwd").status().IsInvalidArgument());
  EXPECT_TRUE(TimeZone::Load("/etc/localtime").status().IsInvalidArgument());
  EXPECT_TRUE(TimeZone::Load("Nowhere/City").status().IsNotFound());
}

}  // namespace
}  // namespace mh::csv
