// Text rendering for `cat` against Python's datetime and repr() (run at test
// time with /usr/bin/python3) as the independent reference.
#include "parquet/table_text.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/test_paths.h"

namespace mh::parquet {
namespace {

std::vector<std::string> RunPython(const std::string& script) {
  std::string dir = testing::MakeTempDir("mh-parquet-text");
  std::string path = dir + "/ref.py";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(script.c_str(), f);
  std::fclose(f);
  std::string out;
  int rc = testing::RunCommand(testing::ReferencePython() + " " + path, &out);
  std::remove(path.c_str());
  std::remove(dir.c_str());
  EXPECT_EQ(rc, 0) << script;
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(TableTextTest, InstantsMatchPythonDatetime) {
  std::mt19937_64 rng(42);
  std::vector<std::pair<std::int64_t, int>> cases;
  // Years 0001..9999 in ms, us and ns (ns limited to the int64 range).
  std::uniform_int_distribution<std::int64_t> secs(-62135596800LL, 253402300799LL);
  std::uniform_int_distribution<std::int64_t> ns_range(std::numeric_limits<std::int64_t>::min(),
                                                       std::numeric_limits<std::int64_t>::max());
  for (int i = 0; i < 300; ++i) {
    int digits = (i % 3 == 0) ? 3 : (i % 3 == 1) ? 6 : 9;
    std::int64_t unit = digits == 3 ? 1000 : digits == 6 ? 1000000 : 1000000000;
    std::int64_t v =
        digits == 9 ? ns_range(rng) : secs(rng) * unit + static_cast<std::int64_t>(rng() % unit);
    cases.emplace_back(v, digits);
  }
  cases.emplace_back(0, 3);
  cases.emplace_back(-1, 9);
  cases.emplace_back(-1, 6);
  std::string script =
      "import datetime\n"
      "E = datetime.datetime(1970, 1, 1)\n"
      "def f(v, d):\n"
      "    u = 10 ** d\n"
      "    s, frac = divmod(v, u)\n"
      "    t = E + datetime.timedelta(seconds=s)\n"
      "    return '%04d-%02d-%02dT%02d:%02d:%02d.%s' % (t.year, t.month, t.day, t.hour, t.minute, "
      "t.second, str(frac).zfill(d)) + 'Z'\n";
  for (auto& [v, d] : cases)
    script += "print(f(" + std::to_string(v) + ", " + std::to_string(d) + "))\n";
  std::vector<std::string> want = RunPython(script);
  ASSERT_EQ(want.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(FormatInstant(cases[i].first, cases[i].second), want[i]) << cases[i].first;
  }
}

TEST(TableTextTest, DatesMatchPython) {
  std::string script = "import datetime\n";
  std::vector<std::int64_t> days;
  for (std::int64_t d = -719162; d <= 2932896; d += 9973) days.push_back(d);
  days.push_back(0);
  days.push_back(-1);
  for (std::int64_t d : days) {
    script += "t = datetime.date(1970,1,1) + datetime.timedelta(days=" + std::to_string(d) +
              ")\nprint('%04d-%02d-%02d' % (t.year, t.month, t.day))\n";
  }
  std::vector<std::string> want = RunPython(script);
  ASSERT_EQ(want.size(), days.size());
  for (std::size_t i = 0; i < days.size(); ++i) EXPECT_EQ(FormatDate(days[i]), want[i]);
}

TEST(TableTextTest, DoublesMatchPythonRepr) {
  std::mt19937_64 rng(7);
  std::vector<double> values = {0.1,    -0.0, 1.0, 1e16, 1e22, 5e-324, 1.7976931348623157e308,
                                123.456};
  for (int i = 0; i < 300; ++i) {
    std::uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, 8);
    if (std::isfinite(d)) values.push_back(d);
  }
  std::string script = "import struct\n";
  for (double d : values) {
    std::uint64_t bits;
    std::memcpy(&bits, &d, 8);
    script += "print(float.fromhex('" + [&] {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%a", d);
      return std::string(buf);
    }() + "'))\n";
  }
  std::vector<std::string> want = RunPython(script);
  ASSERT_EQ(want.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    // Python's repr is the shortest round-trip text, fixed for exponents
    // -4..15 and d.ddde+XX otherwise: exactly our layout.
    EXPECT_EQ(FormatJsonDouble(values[i]), want[i]);
  }
  EXPECT_EQ(FormatJsonDouble(std::nan("")), "NaN");
  EXPECT_EQ(FormatJsonDouble(-INFINITY), "-Infinity");
}

TEST(TableTextTest, JsonAndCsvCells) {
  TableColumn c;
  c.info.kind = ValueKind::kString;
  c.valid = {1, 0};
  c.strings = {"a\"b\\c\n\x01", ""};
  TextOptions o;
  std::string out;
  AppendJsonValue(c, 0, o, &out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\"");
  out.clear();
  AppendJsonValue(c, 1, o, &out);
  EXPECT_EQ(out, "null");
  out.clear();
  AppendCsvValue(c, 0, o, &out);
  EXPECT_EQ(out, "\"a\"\"b\\c\n\x01\"");
  TableColumn b;
  b.info.kind = ValueKind::kBinary;
  b.valid = {1};
  b.strings = {std::string("\x00\xff\x10", 3)};
  out.clear();
  AppendJsonValue(b, 0, o, &out);
  EXPECT_EQ(out, "\"00ff10\"");
}

}  // namespace
}  // namespace mh::parquet
