// Test helpers: deterministic tables for writer tests.
#ifndef MH_TESTS_PARQUET_WRITER_TEST_UTIL_H_
#define MH_TESTS_PARQUET_WRITER_TEST_UTIL_H_

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/table.h"

namespace mh::parquet::testutil {

inline std::vector<TableColumnInfo> Schema() {
  return {{"timestamp", ValueKind::kTimestamp, 9}, {"ts_us", ValueKind::kTimestamp, 6},
          {"sensor_id", ValueKind::kString, 9},    {"rms", ValueKind::kDouble, 9},
          {"count", ValueKind::kInt, 9},           {"flag", ValueKind::kBool, 9},
          {"note", ValueKind::kString, 9}};
}

// Rows [first, first + rows) of a deterministic table with nulls, NaN,
// infinities, -0.0, int64 extremes, unicode and empty strings.
inline TableBatch MakeBatch(std::int64_t first, std::size_t rows) {
  TableBatch b;
  b.first_row = first;
  b.rows = rows;
  for (const auto& info : Schema()) {
    TableColumn c;
    c.info = info;
    b.columns.push_back(c);
  }
  const char* sensors[] = {"s-1", "s-2", "pump/ä", ""};
  const double specials[] = {std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             -0.0,
                             0.0,
                             std::numeric_limits<double>::denorm_min(),
                             std::numeric_limits<double>::max()};
  for (std::size_t k = 0; k < rows; ++k) {
    std::int64_t i = first + static_cast<std::int64_t>(k);
    std::uint64_t h = static_cast<std::uint64_t>(i) * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
    auto push_int = [&](TableColumn& c, bool valid, std::int64_t v) {
      c.valid.push_back(valid ? 1 : 0);
      c.ints.push_back(valid ? v : 0);
    };
    push_int(b.columns[0], i % 11 != 5,
             1735689600000000000LL + i * 1000003 - 7000000000000000000LL * (i % 3 == 0));
    push_int(b.columns[1], i % 13 != 7,
             (1735689600000000LL + i * 997 - (i % 4 == 0 ? 3000000000000000LL : 0)) * 1000);
    b.columns[2].valid.push_back(i % 17 != 3);
    b.columns[2].strings.push_back(i % 17 != 3 ? sensors[h % 4] : "");
    b.columns[3].valid.push_back(i % 7 != 2);
    double d = (i % 19 == 0)
                   ? specials[(i / 19) % 7]
                   : static_cast<double>(static_cast<std::int64_t>(h % 2000001) - 1000000) / 997.0;
    b.columns[3].doubles.push_back(i % 7 != 2 ? d : std::numeric_limits<double>::quiet_NaN());
    std::int64_t cnt = (i % 23 == 0)   ? std::numeric_limits<std::int64_t>::min()
                       : (i % 23 == 1) ? std::numeric_limits<std::int64_t>::max()
                                       : static_cast<std::int64_t>(h) >> 7;
    push_int(b.columns[4], i % 5 != 4, cnt);
    push_int(b.columns[5], i % 9 != 8, static_cast<std::int64_t>(h & 1));
    b.columns[6].valid.push_back(i % 6 != 1);
    b.columns[6].strings.push_back(i % 6 != 1 ? "note \"" + std::to_string(h % 100000) + "\"\n,✓"
                                              : "");
  }
  return b;
}

}  // namespace mh::parquet::testutil

#endif  // MH_TESTS_PARQUET_WRITER_TEST_UTIL_H_
