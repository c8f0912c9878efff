#include "sim/recording.h"

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/strings.h"
#include "core/time_util.h"
#include "sim/plant.h"

namespace mh::sim {
namespace {

TEST(SampleTimeTest, RoundsToTheNearestNanosecond) {
  EXPECT_EQ(SampleTimeNs(0, 0, 25600), 0);
  EXPECT_EQ(SampleTimeNs(0, 1, 25600), 39063);  // 39062.5 -> away from zero
  EXPECT_EQ(SampleTimeNs(0, 2, 25600), 78125);
  EXPECT_EQ(SampleTimeNs(0, 25600, 25600), 1000000000);
  EXPECT_EQ(SampleTimeNs(5, 3, 3), 1000000005);
  EXPECT_EQ(SampleTimeNs(0, 1, 3), 333333333);
  EXPECT_EQ(SampleTimeNs(0, 2, 3), 666666667);
  // 10 days of 25.6 kHz: 22118400000 samples = 864000 s exactly.
  EXPECT_EQ(SampleTimeNs(0, 22118400000LL, 25600), 864000LL * 1000000000);
  // Non-integral rate: 1 / 2.5 Hz = 0.4 s.
  EXPECT_EQ(SampleTimeNs(0, 7, 2.5), 2800000000LL);
}

TEST(AppendMicroGTest, SixDecimalsThatReadBackExactly) {
  char buf[32];
  auto text = [&](double g) { return std::string(buf, AppendMicroG(g, buf)); };
  EXPECT_EQ(text(0.0), "0.000000");
  EXPECT_EQ(text(-0.0), "0.000000");
  EXPECT_EQ(text(1.5), "1.500000");
  EXPECT_EQ(text(-0.012345), "-0.012345");
  EXPECT_EQ(text(0.000001), "0.000001");
  EXPECT_EQ(text(-12.3456789), "-12.345679");
  EXPECT_EQ(text(123456.000001), "123456.000001");
  // Every multiple of 1e-6 in a range reads back to the same double.
  for (long k = -3000000; k <= 3000000; k += 997) {
    const double v = static_cast<double>(k) / 1e6;
    const std::string s = text(v);
    EXPECT_EQ(std::strtod(s.c_str(), nullptr), v) << s;
  }
}

TEST(TimestampFormatterTest, MatchesCoreFormatter) {
  TimestampFormatter f;
  char buf[TimestampFormatter::kLength];
  const std::int64_t base = 1767225599LL * 1000000000;  // 2025-12-31T23:59:59Z
  for (std::int64_t ns : {base, base + 999999999, base + 1000000000, base + 1000000001,
                          base + std::int64_t{61} * 1000000000 + 39063, std::int64_t{0},
                          std::int64_t{-1}, base + 1000000000}) {
    f.Append(ns, buf);
    EXPECT_EQ(std::string(buf, sizeof(buf)), FormatRfc3339(ns, 9)) << ns;
  }
}

std::string Collect(const std::function<Status(const ChunkSink&)>& write) {
  std::string all;
  Status s = write([&all](std::string_view chunk) {
    all.append(chunk);
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return all;
}

TEST(WriteDataCsvTest, RowsAreTheSimulatorSamplesInterleaved) {
  PlantOptions options;
  options.machines = 3;
  options.faults = {FaultSpec{2, FaultKind::kOuterRace, 0, 0}};
  auto plant = MakePlant(options);
  ASSERT_TRUE(plant.ok());
  constexpr std::int64_t kSamples = 5000;                // spans two 4096-sample blocks
  const std::int64_t start = 1767225600LL * 1000000000;  // 2026-01-01T00:00:00Z
  const std::string csv =
      Collect([&](const ChunkSink& sink) { return WriteDataCsv(*plant, start, kSamples, sink); });

  std::vector<std::vector<double>> expected(9, std::vector<double>(kSamples));
  for (int m = 0; m < 3; ++m) {
    MachineSimulator sim((*plant)[static_cast<std::size_t>(m)]);
    sim.Generate(kSamples, expected[3 * m].data(), expected[3 * m + 1].data(),
                 expected[3 * m + 2].data());
  }
  std::istringstream in(csv);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line, "timestamp,machine_id,sensor_id,ax,ay,az");
  std::int64_t rows = 0;
  while (std::getline(in, line)) {
    const std::int64_t i = rows / 3;
    const int m = static_cast<int>(rows % 3);
    const std::vector<std::string> f = Split(line, ',');
    ASSERT_EQ(f.size(), 6u) << line;
    auto t = ParseInstant(f[0]);
    ASSERT_TRUE(t.ok()) << f[0];
    ASSERT_EQ(*t, start + static_cast<std::int64_t>(std::llround(i * 1e9 / 25600)));
    ASSERT_EQ(f[1], "m" + std::to_string(m + 1));
    ASSERT_EQ(f[2], "m" + std::to_string(m + 1) + "-de");
    for (int a = 0; a < 3; ++a) {
      auto v = ParseDouble(f[3 + a]);
      ASSERT_TRUE(v.ok());
      ASSERT_EQ(*v, expected[3 * m + a][i]) << line;  // bit-exact round trip
    }
    ++rows;
  }
  EXPECT_EQ(rows, 3 * kSamples);
}

TEST(WriteDataCsvTest, SinkErrorStopsWriting) {
  PlantOptions options;
  auto plant = MakePlant(options);
  ASSERT_TRUE(plant.ok());
  int calls = 0;
  Status s = WriteDataCsv(*plant, 0, 100000, [&calls](std::string_view) {
    ++calls;
    return Status::IOError("disk full");
  });
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(s.message().find("disk full"), std::string::npos);
  EXPECT_EQ(calls, 1);
}

TEST(WriteLabelsCsvTest, OneRowPerMachinePerTenthOfASecond) {
  PlantOptions options;
  options.machines = 2;
  options.faults = {FaultSpec{2, FaultKind::kImbalance, 0.5, 1.0}};
  auto plant = MakePlant(options);
  ASSERT_TRUE(plant.ok());
  const std::string csv =
      Collect([&](const ChunkSink& sink) { return WriteLabelsCsv(*plant, 0, 2.05, sink); });
  std::istringstream in(csv);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line, "timestamp,machine_id,fault,severity");
  std::vector<std::string> rows;
  while (std::getline(in, line)) rows.push_back(line);
  ASSERT_EQ(rows.size(), 2u * 21);  // t = 0.0 .. 2.0
  EXPECT_EQ(rows[0], "1970-01-01T00:00:00.000000000Z,m1,none,0");
  EXPECT_EQ(rows[1], "1970-01-01T00:00:00.000000000Z,m2,none,0");
  EXPECT_EQ(rows[11], "1970-01-01T00:00:00.500000000Z,m2,none,0");         // at start: 0
  EXPECT_EQ(rows[21], "1970-01-01T00:00:01.000000000Z,m2,imbalance,0.5");  // (1-0.5)/1
  EXPECT_EQ(rows[41], "1970-01-01T00:00:02.000000000Z,m2,imbalance,1");
  EXPECT_EQ(rows[40], "1970-01-01T00:00:02.000000000Z,m1,none,0");
}

}  // namespace
}  // namespace mh::sim
