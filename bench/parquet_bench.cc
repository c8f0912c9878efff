// Parquet reader speed: a table of 8 DOUBLE columns (SNAPPY, 1M rows in
// several row groups, as written by our writer) read into memory, in rows/s
// and file MB/s; and the JSON-lines rendering of `cat` on top of it.
// The file is written once to /tmp (MH_PARQUET_BENCH_FILE overrides the path,
// e.g. to time DuckDB on the same file: tools/duckdb/bench_read.js).
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include <benchmark/benchmark.h>

#include "parquet/parquet_reader.h"
#include "parquet/parquet_writer.h"
#include "parquet/table_text.h"

namespace mh::parquet {
namespace {

constexpr std::size_t kRows = 1 << 20;
constexpr int kColumns = 8;

const std::string& BenchFile() {
  static const std::string path = [] {
    const char* env = std::getenv("MH_PARQUET_BENCH_FILE");
    std::string p = env != nullptr ? env : "/tmp/mh_parquet_bench_8x1m.parquet";
    if (std::filesystem::exists(p)) return p;
    std::vector<TableColumnInfo> schema;
    for (int c = 0; c < kColumns; ++c)
      schema.push_back({"f" + std::to_string(c), ValueKind::kDouble, 9});
    ParquetWriteOptions o;
    o.codec = ParquetCodec::kSnappy;
    o.row_group_rows = 1 << 18;  // 4 row groups
    auto w = ParquetWriter::Create(p, schema, o);
    if (!w.ok()) std::abort();
    std::mt19937_64 rng(1);
    std::normal_distribution<double> noise(0.0, 1.0);
    const std::size_t kBatch = 1 << 16;
    for (std::size_t first = 0; first < kRows; first += kBatch) {
      TableBatch b;
      b.first_row = static_cast<std::int64_t>(first);
      b.rows = kBatch;
      for (int c = 0; c < kColumns; ++c) {
        TableColumn col;
        col.info = schema[static_cast<std::size_t>(c)];
        col.valid.assign(kBatch, 1);
        for (std::size_t i = 0; i < kBatch; ++i) {
          // Quantised like feature values (3 decimals), so Snappy has work.
          col.doubles.push_back(std::round((c + 1) * 10.0 + noise(rng) * 1000.0) / 1000.0);
        }
        b.columns.push_back(std::move(col));
      }
      if (!(*w)->Write(b).ok()) std::abort();
    }
    if (!(*w)->Close().ok()) std::abort();
    return p;
  }();
  return path;
}

void BM_ReadDoubles(benchmark::State& state) {
  const std::string& path = BenchFile();
  const double file_bytes = static_cast<double>(std::filesystem::file_size(path));
  std::size_t rows = 0;
  for (auto _ : state) {
    ParquetReadOptions o;
    auto reader = OpenParquetTable(path, o);
    if (!reader.ok()) state.SkipWithError(reader.status().ToString().c_str());
    TableBatch batch;
    rows = 0;
    while (true) {
      auto more = (*reader)->Next(&batch);
      if (!more.ok() || batch.rows == 0) break;
      rows += batch.rows;
      benchmark::DoNotOptimize(batch.columns[0].doubles.data());
    }
  }
  state.counters["rows_per_s"] = benchmark::Counter(static_cast<double>(rows) * state.iterations(),
                                                    benchmark::Counter::kIsRate);
  state.counters["file_MB_per_s"] =
      benchmark::Counter(file_bytes / 1e6 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReadDoubles)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CatJsonLines(benchmark::State& state) {
  const std::string& path = BenchFile();
  std::size_t rows = 0;
  for (auto _ : state) {
    ParquetReadOptions o;
    auto reader = OpenParquetTable(path, o);
    if (!reader.ok()) state.SkipWithError(reader.status().ToString().c_str());
    TableBatch batch;
    TextOptions text;
    std::string out;
    std::vector<std::string> keys;
    for (int c = 0; c < kColumns; ++c) keys.push_back("\"f" + std::to_string(c) + "\":");
    rows = 0;
    while (true) {
      auto more = (*reader)->Next(&batch);
      if (!more.ok() || batch.rows == 0) break;
      for (std::size_t r = 0; r < batch.rows; ++r) {
        out += '{';
        for (std::size_t c = 0; c < batch.columns.size(); ++c) {
          if (c) out += ',';
          out += keys[c];
          AppendJsonValue(batch.columns[c], r, text, &out);
        }
        out += "}\n";
      }
      benchmark::DoNotOptimize(out.data());
      out.clear();
      rows += batch.rows;
    }
  }
  state.counters["rows_per_s"] = benchmark::Counter(static_cast<double>(rows) * state.iterations(),
                                                    benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CatJsonLines)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace mh::parquet

BENCHMARK_MAIN();
