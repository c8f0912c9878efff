// Runs the whole conformance corpus ../shared/testdata/parquet/manifest.json:
// every `read` file must match its .expected.json (written by DuckDB and
// checked by hyparquet) value by value, and in its column statistics and
// FNV-1a hash over all rows; every `error` file must fail with a message
// naming the reason; `read_or_error` files either fail or match exactly.
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "parquet/parquet_reader.h"
#include "parquet/table_text.h"
#include "testing/test_paths.h"

namespace mh::parquet {
namespace {

using nlohmann::json;
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

// Files of the `read` tiers we refuse on purpose, with the reason (a
// substring of our error message). Keep this list short and every reason real.
const std::map<std::string, std::string>& RefusedFiles() {
  static const std::map<std::string, std::string> kRefused = {};
  return kRefused;
}

std::string CorpusDir() { return testing::SharedDir() + "/testdata/parquet"; }

struct Entry {
  std::string file, expected, tier, expect, error_kind;
};

void PrintTo(const Entry& e, std::ostream* os) { *os << e.file; }

std::vector<Entry> LoadManifest() {
  std::vector<Entry> out;
  if (testing::SharedDir().empty()) return out;
  std::ifstream in(CorpusDir() + "/manifest.json");
  if (!in) return out;
  json m = json::parse(in);
  for (const json& f : m["files"]) {
    Entry e;
    e.file = f["file"].get<std::string>();
    e.expected = f["expected"].get<std::string>();
    e.tier = f["tier"].get<std::string>();
    e.expect = f["expect"].get<std::string>();
    e.error_kind = f["error_kind"].is_null() ? "" : f["error_kind"].get<std::string>();
    out.push_back(e);
  }
  return out;
}

std::uint64_t Fnv(std::uint64_t h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string Hex16(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string Int128Text(Int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  UInt128 u = neg ? -static_cast<UInt128>(v) : static_cast<UInt128>(v);
  std::string s;
  while (u > 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  if (neg) s.push_back('-');
  return std::string(s.rbegin(), s.rend());
}

bool SameDouble(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// Expected JSON double cell (number or "NaN"/"Infinity"/"-Infinity").
double JsonDouble(const json& v) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s == "NaN") return std::nan("");
    if (s == "Infinity") return INFINITY;
    if (s == "-Infinity") return -INFINITY;
    ADD_FAILURE() << "unexpected float text " << s;
    return 0;
  }
  return v.get<double>();
}

int ReprDigits(const std::string& repr) {
  if (repr == "timestamp_ms") return 3;
  if (repr == "timestamp_us" || repr == "time_us") return 6;
  return 9;
}

// Per-column state: conversion to the expected representation, statistics
// and hash over every row.
struct ColumnCheck {
  std::string name, repr;
  bool skip_stats = false;
  std::set<std::size_t> skip_rows;
  std::int64_t non_null = 0, nulls = 0, nan = 0, true_count = 0;
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  bool has_min = false;
  Int128 imin = 0, imax = 0, isum = 0;  // int-like values (uint64 fits too)
  double dmin = 0, dmax = 0, dsum = 0;
};

bool IsIntRepr(const std::string& r) {
  return r == "int" || r == "uint" || r == "date_days" || r == "time_us" ||
         r.rfind("timestamp_", 0) == 0;
}

// Our integer value of an int-like cell, in the expected unit.
bool IntValue(const TableColumn& c, std::size_t row, const std::string& repr, Int128* out,
              std::string* why) {
  std::int64_t v = c.ints[row];
  if (repr == "uint") {
    *out = c.info.kind == ValueKind::kUInt64 ? static_cast<Int128>(static_cast<std::uint64_t>(v))
                                             : static_cast<Int128>(v);
    return true;
  }
  if (repr.rfind("timestamp_", 0) == 0 || repr == "time_us") {
    if (c.info.kind != ValueKind::kTimestamp && c.info.kind != ValueKind::kTime) {
      *why = "kind is not a time";
      return false;
    }
    int have = c.info.fraction_digits, want = ReprDigits(repr);
    Int128 x = v;
    for (int i = have; i < want; ++i) x *= 10;
    for (int i = want; i < have; ++i) x /= 10;
    *out = x;
    return true;
  }
  *out = v;
  return true;
}

void CheckCell(const TableColumn& c, std::size_t row, const json& want, ColumnCheck& cc,
               std::size_t file_row) {
  SCOPED_TRACE("column '" + cc.name + "' row " + std::to_string(file_row));
  if (!c.valid[row] || want.is_null()) {
    EXPECT_EQ(c.valid[row] != 0, !want.is_null()) << "null mismatch, expected " << want.dump();
    return;
  }
  const std::string& r = cc.repr;
  if (IsIntRepr(r)) {
    Int128 x = 0;
    std::string why;
    ASSERT_TRUE(IntValue(c, row, r, &x, &why)) << why;
    Int128 w = want.is_number_unsigned() ? static_cast<Int128>(want.get<std::uint64_t>())
                                         : static_cast<Int128>(want.get<std::int64_t>());
    EXPECT_EQ(Int128Text(x), Int128Text(w));
  } else if (r == "float64" || r == "float32") {
    ASSERT_EQ(c.info.kind, ValueKind::kDouble);
    double got = c.doubles[row];
    double exp = JsonDouble(want);
    EXPECT_TRUE(SameDouble(got, exp)) << FormatJsonDouble(got) << " vs " << want.dump();
  } else if (r == "bool") {
    ASSERT_EQ(c.info.kind, ValueKind::kBool);
    EXPECT_EQ(c.ints[row] != 0, want.get<bool>());
  } else if (r == "string" || r == "decimal_string") {
    ASSERT_TRUE(c.info.kind == ValueKind::kString || c.info.kind == ValueKind::kDecimal)
        << "kind " << static_cast<int>(c.info.kind);
    EXPECT_EQ(c.strings[row], want.get<std::string>());
  } else if (r == "hex") {
    ASSERT_EQ(c.info.kind, ValueKind::kBinary);
    EXPECT_EQ(HexString(c.strings[row]), want.get<std::string>());
  } else {
    ADD_FAILURE() << "unknown json_repr " << r;
  }
}

void Accumulate(const TableColumn& c, std::size_t row, ColumnCheck& cc) {
  std::uint64_t& h = cc.hash;
  if (!c.valid[row]) {
    ++cc.nulls;
    unsigned char z = 0;
    h = Fnv(h, &z, 1);
    return;
  }
  ++cc.non_null;
  unsigned char one = 1;
  h = Fnv(h, &one, 1);
  const std::string& r = cc.repr;
  if (IsIntRepr(r)) {
    Int128 x = 0;
    std::string why;
    if (!IntValue(c, row, r, &x, &why)) return;
    std::uint64_t u = static_cast<std::uint64_t>(x);
    h = Fnv(h, &u, 8);
    if (!cc.has_min || x < cc.imin) cc.imin = x;
    if (!cc.has_min || x > cc.imax) cc.imax = x;
    cc.has_min = true;
    cc.isum += x;
  } else if (r == "float64" || r == "float32") {
    double v = c.doubles[row];
    if (r == "float32") {
      float f = static_cast<float>(v);
      std::uint32_t bits;
      std::memcpy(&bits, &f, 4);
      if (std::isnan(f)) bits = 0x7fc00000u;
      h = Fnv(h, &bits, 4);
    } else {
      std::uint64_t bits;
      std::memcpy(&bits, &v, 8);
      if (std::isnan(v)) bits = 0x7ff8000000000000ULL;
      h = Fnv(h, &bits, 8);
    }
    if (std::isnan(v)) {
      ++cc.nan;
      return;
    }
    auto less = [](double a, double b) {
      if (a == 0 && b == 0) return std::signbit(a) && !std::signbit(b);
      return a < b;
    };
    if (!cc.has_min || less(v, cc.dmin)) cc.dmin = v;
    if (!cc.has_min || less(cc.dmax, v)) cc.dmax = v;
    cc.has_min = true;
    cc.dsum += v;
  } else if (r == "bool") {
    unsigned char b = c.ints[row] ? 1 : 0;
    cc.true_count += b;
    h = Fnv(h, &b, 1);
  } else {
    std::string bytes = c.strings[row];
    std::uint32_t n = static_cast<std::uint32_t>(bytes.size());
    h = Fnv(h, &n, 4);
    h = Fnv(h, bytes.data(), bytes.size());
  }
}

void CheckStats(const ColumnCheck& cc, const json& stats) {
  SCOPED_TRACE("stats of column '" + cc.name + "'");
  if (stats.contains("non_null")) {
    EXPECT_EQ(cc.non_null, stats["non_null"].get<std::int64_t>());
  }
  if (stats.contains("nulls")) {
    EXPECT_EQ(cc.nulls, stats["nulls"].get<std::int64_t>());
  }
  if (stats.contains("nan")) {
    EXPECT_EQ(cc.nan, stats["nan"].get<std::int64_t>());
  }
  if (stats.contains("true_count")) {
    EXPECT_EQ(cc.true_count, stats["true_count"].get<std::int64_t>());
  }
  if (stats.contains("fnv1a64")) {
    EXPECT_EQ(Hex16(cc.hash), stats["fnv1a64"].get<std::string>());
  }
  const std::string& r = cc.repr;
  if (IsIntRepr(r)) {
    if (stats.contains("min")) {
      if (stats["min"].is_null()) {
        EXPECT_FALSE(cc.has_min);
      } else {
        auto as128 = [](const json& v) {
          return v.is_number_unsigned() ? static_cast<Int128>(v.get<std::uint64_t>())
                                        : static_cast<Int128>(v.get<std::int64_t>());
        };
        EXPECT_EQ(Int128Text(cc.imin), Int128Text(as128(stats["min"])));
        EXPECT_EQ(Int128Text(cc.imax), Int128Text(as128(stats["max"])));
      }
    }
    if (stats.contains("sum") && stats["sum"].is_string()) {
      EXPECT_EQ(Int128Text(cc.isum), stats["sum"].get<std::string>());
    }
  } else if (r == "float64" || r == "float32") {
    if (stats.contains("min")) {
      if (stats["min"].is_null()) {
        EXPECT_FALSE(cc.has_min);
      } else {
        EXPECT_TRUE(SameDouble(cc.dmin, JsonDouble(stats["min"]))) << FormatJsonDouble(cc.dmin);
        EXPECT_TRUE(SameDouble(cc.dmax, JsonDouble(stats["max"]))) << FormatJsonDouble(cc.dmax);
      }
    }
    if (stats.contains("sum") && !stats["sum"].is_null()) {
      EXPECT_TRUE(SameDouble(cc.dsum, JsonDouble(stats["sum"]))) << FormatJsonDouble(cc.dsum);
    }
  }
}

// Reads `path` (projected to `columns` if not empty) and compares with the
// expected object. Returns the first error instead when reading fails.
Status ReadAndCompare(const std::string& path, const json& exp,
                      const std::vector<std::string>& columns, bool verify_crc = true) {
  ParquetReadOptions options;
  options.keep_time_unit = true;
  options.columns = columns;
  options.batch_rows = 97;  // odd size: batches straddle pages
  options.verify_crc = verify_crc;
  MH_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> reader, OpenParquetTable(path, options));
  static const json kEmpty = json::array();
  const json& cols = exp.contains("columns") ? exp["columns"] : kEmpty;
  const auto& infos = reader->columns();
  EXPECT_EQ(infos.size(), cols.size());
  if (infos.size() != cols.size()) return Status::OK();
  MH_ASSIGN_OR_RETURN(ParquetFileInfo info, ReadParquetInfo(path));
  std::vector<ColumnCheck> checks(cols.size());
  for (std::size_t j = 0; j < cols.size(); ++j) {
    checks[j].name = cols[j]["name"].get<std::string>();
    checks[j].repr = cols[j]["json_repr"].get<std::string>();
    EXPECT_EQ(infos[j].name, checks[j].name);
    for (const auto& c : info.columns) {
      if (c.name == checks[j].name) {
        EXPECT_EQ(c.physical_type, cols[j]["physical_type"].get<std::string>()) << c.name;
      }
    }
  }
  if (exp.contains("unreliable_cells")) {
    for (const json& u : exp["unreliable_cells"]) {
      for (auto& cc : checks) {
        if (cc.name == u["column"].get<std::string>()) {
          cc.skip_stats = true;
          cc.skip_rows.insert(u["row"].get<std::size_t>());
        }
      }
    }
  }
  const json& rows = exp.contains("rows") ? exp["rows"] : kEmpty;
  std::int64_t total = 0;
  TableBatch batch;
  while (true) {
    MH_ASSIGN_OR_RETURN(bool ok, reader->Next(&batch));
    (void)ok;
    if (batch.rows == 0) break;
    EXPECT_EQ(batch.first_row, total);
    for (std::size_t r = 0; r < batch.rows; ++r) {
      std::size_t file_row = static_cast<std::size_t>(total) + r;
      for (std::size_t j = 0; j < checks.size(); ++j) {
        const TableColumn& c = batch.columns[j];
        if (checks[j].skip_rows.count(file_row)) continue;
        if (file_row < rows.size()) CheckCell(c, r, rows[file_row][j], checks[j], file_row);
        Accumulate(c, r, checks[j]);
      }
    }
    total += static_cast<std::int64_t>(batch.rows);
  }
  if (exp.contains("num_rows") && exp["num_rows"].is_number()) {
    EXPECT_EQ(total, exp["num_rows"].get<std::int64_t>());
  }
  for (std::size_t j = 0; j < checks.size(); ++j) {
    if (!checks[j].skip_stats && cols[j].contains("stats")) CheckStats(checks[j], cols[j]["stats"]);
  }
  return Status::OK();
}

std::string KeywordFor(const std::string& error_kind) {
  if (error_kind == "nested_schema") return "nested";
  if (error_kind == "unsupported_codec") return "unsupported codec";
  if (error_kind == "encrypted") return "encrypted";
  return "";
}

class ConformanceTest : public ::testing::TestWithParam<Entry> {};

TEST_P(ConformanceTest, MatchesExpected) {
  MH_REQUIRE_SHARED_DATA();
  const Entry& e = GetParam();
  std::string path = CorpusDir() + "/" + e.file;
  std::ifstream in(CorpusDir() + "/" + e.expected);
  ASSERT_TRUE(in) << e.expected;
  json exp = json::parse(in);
  if (e.expect == "error") {
    Status s = ReadAndCompare(path, exp, {});
    ASSERT_FALSE(s.ok()) << e.file << " must be refused (" << e.error_kind << ")";
    std::string kw = KeywordFor(e.error_kind);
    if (!kw.empty()) {
      EXPECT_NE(s.message().find(kw), std::string::npos) << s.ToString();
      EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
    } else {
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    }
    EXPECT_NE(s.message().find(path), std::string::npos)
        << "message names the file: " << s.ToString();
    // Nested files: the flat columns must still be readable by projection.
    if (e.error_kind == "nested_schema" && exp.contains("columns") && !exp["columns"].empty() &&
        exp.contains("rows") && exp["num_rows"].is_number()) {
      std::vector<std::string> flat;
      for (const json& c : exp["columns"]) flat.push_back(c["name"].get<std::string>());
      Status p = ReadAndCompare(path, exp, flat);
      EXPECT_TRUE(p.ok()) << "projection of flat columns: " << p.ToString();
    }
    return;
  }
  auto refused = RefusedFiles().find(e.file);
  Status s = ReadAndCompare(path, exp, {});
  if (refused != RefusedFiles().end()) {
    ASSERT_FALSE(s.ok()) << e.file << " is listed as refused but was read";
    EXPECT_NE(s.message().find(refused->second), std::string::npos) << s.ToString();
    return;
  }
  if (e.expect == "read_or_error") {
    if (!s.ok()) {
      EXPECT_TRUE(s.IsCorruption() || s.IsNotSupported()) << s.ToString();
      std::cout << "[ info     ] " << e.file << " refused: " << s.ToString() << "\n";
      if (s.message().find("CRC-32 mismatch") != std::string::npos) {
        // Only the checksums are wrong: without verification, exact values.
        Status again = ReadAndCompare(path, exp, {}, /*verify_crc=*/false);
        EXPECT_TRUE(again.ok()) << again.ToString();
      }
    }
    return;
  }
  EXPECT_TRUE(s.ok()) << s.ToString();
}

std::string EntryName(const ::testing::TestParamInfo<Entry>& info) {
  std::string n;
  for (char c : info.param.file) n.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(Corpus, ConformanceTest, ::testing::ValuesIn(LoadManifest()), EntryName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ConformanceTest);

}  // namespace
}  // namespace mh::parquet
