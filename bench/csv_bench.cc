// CSV reader and replayer speed on a feature table like the prototype's:
// sensor_id, timestamp (epoch seconds), 6 DOUBLE columns; 1M rows (about
// 125 MB), generated once to /tmp (MH_CSV_BENCH_FILE overrides the path).
//   BM_CsvRead:         OpenCsvTable + Next over all rows (streamed).
//   BM_CsvReplayEncode: Replay of the same file to a publisher that only
//                       counts bytes, i.e. `replay --to -` without the write.
//   BM_ReplayEncodeOnly: the JSON encoding of one feature event alone.
//   BM_CsvWrite:        tableio's CSV writer (what `features`/`score --out
//                       x.csv` use): 1M rows of sensor_id and 6 random
//                       doubles (17 significant digits) to a file in /tmp;
//                       items are doubles formatted (std::to_chars).
//   BM_CsvWideHeader/N/R: open and read a header of N fields and one data
//                       row, all fields named "1" (R = 1) or all distinct
//                       (R = 0): issue 14's 4,000 x "1" (30 s before the
//                       fix) and 100,000 unique names (18 s).
// Figures are rows/s (items_per_second) and input MB/s (bytes_per_second).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "csv/csv_reader.h"
#include "replay/event_json.h"
#include "replay/replayer.h"
#include "tableio/table_output.h"

namespace mh::replay {
namespace {

constexpr std::size_t kRows = 1'000'000;

const std::string& BenchFile() {
  static const std::string path = [] {
    const char* env = std::getenv("MH_CSV_BENCH_FILE");
    std::string p = env != nullptr ? env : "/tmp/mh_csv_bench_6x1m.csv";
    if (std::filesystem::exists(p)) return p;
    const std::string tmp = p + ".part";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (f == nullptr) std::abort();
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> value(-10.0, 10.0);
    std::fputs("sensor_id,timestamp,f1,f2,f3,f4,f5,f6\n", f);
    for (std::size_t i = 0; i < kRows; ++i) {
      std::fprintf(f, "s%zu,%zu", i % 8, 1761519890 + i);
      for (int c = 0; c < 6; ++c) std::fprintf(f, ",%.17g", value(rng));
      std::fputc('\n', f);
    }
    if (std::fclose(f) != 0) std::abort();
    std::filesystem::rename(tmp, p);
    return p;
  }();
  return path;
}

std::int64_t FileBytes() {
  return static_cast<std::int64_t>(std::filesystem::file_size(BenchFile()));
}

void BM_CsvRead(benchmark::State& state) {
  const std::string& path = BenchFile();
  std::int64_t rows = 0;
  for (auto _ : state) {
    auto reader = csv::OpenCsvTable(path, csv::CsvOptions{});
    if (!reader.ok()) std::abort();
    TableBatch batch;
    while (true) {
      auto got = (*reader)->Next(&batch);
      if (!got.ok()) std::abort();
      if (batch.rows == 0) break;
      rows += static_cast<std::int64_t>(batch.rows);
    }
  }
  state.SetItemsProcessed(rows);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * FileBytes());
}
BENCHMARK(BM_CsvRead)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_CsvWideHeader(benchmark::State& state) {
  const auto fields = static_cast<std::size_t>(state.range(0));
  const bool repeated = state.range(1) != 0;
  std::string text;
  for (std::size_t j = 0; j < fields; ++j) {
    if (j > 0) text += ',';
    text += repeated ? "1" : "c" + std::to_string(j);
  }
  text += '\n';
  for (std::size_t j = 0; j < fields; ++j) text += j > 0 ? ",1.5" : "1.5";
  text += '\n';
  for (auto _ : state) {
    auto reader = csv::OpenCsvTableFromBuffer(text, csv::CsvOptions{});
    if (!reader.ok() || (*reader)->columns().size() != fields) std::abort();
    TableBatch batch;
    if (!(*reader)->Next(&batch).ok() || batch.rows != 1) std::abort();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_CsvWideHeader)
    ->Args({4000, 1})
    ->Args({4000, 0})
    ->Args({100'000, 1})
    ->Args({100'000, 0})
    ->Unit(benchmark::kMillisecond);

// Counts what would be written; keeps the payloads' cost (they are built).
class CountingPublisher final : public transport::Publisher {
 public:
  Status Publish(std::span<const transport::OutgoingMessage> batch) override {
    for (const auto& m : batch) bytes += static_cast<std::int64_t>(m.payload.size()) + 1;
    return Status::OK();
  }
  Status Close() override { return Status::OK(); }
  std::int64_t bytes = 0;
};

class NoClock final : public ReplayClock {
 public:
  std::int64_t WallNs() override { return 0; }
  std::int64_t MonotonicNs() override { return 0; }
  void SleepUntil(std::int64_t) override {}
};

void BM_CsvReplayEncode(benchmark::State& state) {
  const std::string& path = BenchFile();
  ReplayOptions o;
  o.sensor_id_column = "sensor_id";
  o.timestamp_column = "timestamp";
  o.timestamp_unit = TimestampUnit::kSeconds;
  o.delay_s = 0;
  o.batch = 1000;
  std::int64_t rows = 0;
  for (auto _ : state) {
    CountingPublisher pub;
    NoClock clock;
    auto stats = Replay([&] { return csv::OpenCsvTable(path, csv::CsvOptions{}); }, o, pub, clock);
    if (!stats.ok()) std::abort();
    rows += stats->rows;
    benchmark::DoNotOptimize(pub.bytes);
  }
  state.SetItemsProcessed(rows);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * FileBytes());
}
BENCHMARK(BM_CsvReplayEncode)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_ReplayEncodeOnly(benchmark::State& state) {
  const std::vector<std::string> keys = {"feature_1", "feature_2", "feature_3",
                                         "feature_4", "feature_5", "feature_6"};
  const std::vector<std::string> encoded = EncodeFeatureKeys(keys);
  std::vector<double> values = {-7.312715117751976, 6.9486747387446535,   5.275492379532281,
                                -4.898619485211566, -0.09129825816118142, -1.010178704225238};
  std::string out;
  double ts = 1761519890;
  for (auto _ : state) {
    out.clear();
    AppendFeatureEventJson({"s3", ts, keys, values}, encoded, &out);
    benchmark::DoNotOptimize(out.data());
    ts += 1;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ReplayEncodeOnly);

void BM_CsvWrite(benchmark::State& state) {
  constexpr std::size_t kBatchRows = 8192;
  constexpr std::size_t kBatches = kRows / kBatchRows;
  std::vector<TableColumnInfo> schema = {{"sensor_id", ValueKind::kString, 9}};
  for (int c = 1; c <= 6; ++c) schema.push_back({"f" + std::to_string(c), ValueKind::kDouble, 9});
  TableBatch batch;
  batch.Reset(0, schema);
  batch.rows = kBatchRows;
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<double> value(-10.0, 10.0);
  for (TableColumn& c : batch.columns) c.valid.assign(kBatchRows, 1);
  for (std::size_t i = 0; i < kBatchRows; ++i)
    batch.columns[0].strings.push_back("s" + std::to_string(i % 8));
  for (std::size_t c = 1; c < schema.size(); ++c) {
    for (std::size_t i = 0; i < kBatchRows; ++i) batch.columns[c].doubles.push_back(value(rng));
  }
  const std::string path = "/tmp/mh_csv_bench_write.csv";
  std::int64_t doubles = 0;
  for (auto _ : state) {
    auto out = tableio::OpenTableOutput(path, "", schema, nullptr);
    if (!out.ok()) std::abort();
    for (std::size_t b = 0; b < kBatches; ++b) {
      if (!(*out)->Write(batch).ok()) std::abort();
    }
    if (!(*out)->Close().ok()) std::abort();
    doubles += static_cast<std::int64_t>(kBatches * kBatchRows * 6);
  }
  state.SetItemsProcessed(doubles);
  std::filesystem::remove(path);
}
BENCHMARK(BM_CsvWrite)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
}  // namespace mh::replay

BENCHMARK_MAIN();
