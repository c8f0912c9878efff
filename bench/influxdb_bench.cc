// InfluxDB sink benchmarks.
//
// BM_EncodeRecords: line-protocol encoding of 2,500 scored records (the
// prototype's 9 signal features each: rms/peak_freq/bandE0_200 x ax/ay/az),
// i.e. 5,000 lines, into a reused buffer. Reports records/s and bytes/s.
//
// BM_GzipLineProtocol/isal:0|1: gzip (level 1) of those 5,000 lines as the
// writer sends them: zlib's deflate (isal:0, the reference, what the writer
// used before) and ISA-L igzip (isal:1, sink/influxdb/gzip_body.h, what it
// uses now), in the same run. Reports input bytes/s and the ratio.
//
// Against a real influxd 1.x started by the test harness (once, for the whole
// run, on a free loopback port; the server shares the machine's cores with
// the benchmark):
//   BM_SinkBatch5000/gzip:1|0  InfluxdbSink::Write of 2,500 records = 5,000
//                              points per request, gzip on / off.
//   BM_OnePointPerRequest      the prototype's pattern: one synchronous HTTP
//                              POST per point (keep-alive, no gzip, as its
//                              Python client did).
// All report points/s; every iteration writes new timestamps.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <zlib.h>

#include "sink/influxdb/gzip_body.h"
#include "sink/influxdb/influxdb_sink.h"
#include "sink/influxdb/influxdb_writer.h"
#include "sink/influxdb/line_protocol.h"
#include "testing/influxdb_service.h"

namespace mh::sink::influxdb {
namespace {

constexpr int kRecordsPerBatch = 2500;  // x 2 lines = 5,000 points
constexpr std::int64_t kT0Ns = 1'761'559'200'000'000'000;
constexpr std::int64_t kStepNs = 5'000'000'000;

std::shared_ptr<const std::vector<std::string>> PrototypeFeatureNames() {
  auto names = std::make_shared<std::vector<std::string>>();
  for (const char* stat : {"rms", "peak_freq", "bandE0_200"}) {
    for (const char* axis : {"ax", "ay", "az"}) names->push_back(std::string(stat) + "_" + axis);
  }
  return names;
}

// Records `first`..`first + count - 1` over 4 machines, each machine's
// windows 5 s apart.
std::vector<WindowRecord> Records(std::int64_t first, int count) {
  static const auto names = PrototypeFeatureNames();
  std::vector<WindowRecord> records(count);
  for (int i = 0; i < count; ++i) {
    const std::int64_t n = first + i;
    WindowRecord& r = records[i];
    r.machine_id = "sim-" + std::to_string(n % 4 + 1);
    r.window_start_ns = kT0Ns + n / 4 * kStepNs;
    r.feature_names = names;
    for (std::size_t f = 0; f < names->size(); ++f) {
      r.features.push_back(std::sin(static_cast<double>(n) * 0.37 + f) * (f + 1) * 0.731);
    }
    r.score = std::cos(static_cast<double>(n) * 0.11) * 0.15;
    r.score_samples = r.score - 0.5;
    r.anomaly = r.score < -0.1;
    r.threshold = -0.1;
  }
  return records;
}

void BM_EncodeRecords(benchmark::State& state) {
  const std::vector<WindowRecord> records = Records(0, kRecordsPerBatch);
  std::string body;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    body.clear();
    for (const WindowRecord& r : records) {
      Result<EncodedLines> lines = AppendWindowRecord(r, &body);
      if (!lines.ok()) state.SkipWithError(lines.status().ToString().c_str());
    }
    benchmark::DoNotOptimize(body.data());
    bytes += static_cast<std::int64_t>(body.size());
  }
  state.SetItemsProcessed(state.iterations() * kRecordsPerBatch);
  state.SetBytesProcessed(bytes);
  state.counters["records/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kRecordsPerBatch, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EncodeRecords);

std::string EncodedBatch() {
  std::string body;
  for (const WindowRecord& r : Records(0, kRecordsPerBatch)) {
    if (!AppendWindowRecord(r, &body).ok()) return {};
  }
  return body;
}

void BM_GzipLineProtocol(benchmark::State& state) {
  const bool use_zlib = state.range(0) == 0;
  const std::string body = EncodedBatch();
  std::size_t out_bytes = 0;
  if (use_zlib) {
    z_stream z{};
    if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      state.SkipWithError("deflateInit2 failed");
      return;
    }
    std::string out(deflateBound(&z, body.size()), '\0');
    for (auto _ : state) {
      deflateReset(&z);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
      z.avail_in = static_cast<uInt>(body.size());
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      if (deflate(&z, Z_FINISH) != Z_STREAM_END) state.SkipWithError("deflate failed");
      out_bytes = out.size() - z.avail_out;
      benchmark::DoNotOptimize(out.data());
    }
    deflateEnd(&z);
  } else {
    auto gzip = GzipBody::Create(1);
    if (!gzip.ok()) {
      state.SkipWithError(gzip.status().ToString().c_str());
      return;
    }
    for (auto _ : state) {
      auto gz = (*gzip)->Compress(body);
      if (!gz.ok()) state.SkipWithError(gz.status().ToString().c_str());
      out_bytes = gz->size();
      benchmark::DoNotOptimize(gz->data());
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
  state.counters["ratio"] = static_cast<double>(body.size()) / static_cast<double>(out_bytes);
  state.counters["records/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kRecordsPerBatch, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GzipLineProtocol)->ArgName("isal")->Arg(0)->Arg(1);

// The server for the whole run; nullptr (and the reason) if it cannot start.
mh::testing::InfluxdbService* Server(std::string* why) {
  static std::string error;
  static std::unique_ptr<mh::testing::InfluxdbService> server = [] {
    auto started = mh::testing::InfluxdbService::Launch();
    if (!started.ok()) {
      error = started.status().ToString();
      return std::unique_ptr<mh::testing::InfluxdbService>();
    }
    Status created = (*started)->CreateDatabase("bench");
    if (!created.ok()) {
      error = created.ToString();
      return std::unique_ptr<mh::testing::InfluxdbService>();
    }
    return std::move(started).value();
  }();
  *why = error;
  return server.get();
}

InfluxdbConfig BenchConfig(const mh::testing::InfluxdbService& server, bool gzip) {
  InfluxdbConfig config;
  config.host = "127.0.0.1";
  config.port = server.port();
  config.database = "bench";
  config.gzip = gzip;
  return config;
}

// Record numbers never reused within a run, so every write adds new points.
std::int64_t next_record = 0;

void BM_SinkBatch5000(benchmark::State& state) {
  std::string why;
  mh::testing::InfluxdbService* server = Server(&why);
  if (server == nullptr) return state.SkipWithError(why.c_str());
  auto sink = OpenInfluxdbSink(BenchConfig(*server, state.range(0) != 0));
  if (!sink.ok()) return state.SkipWithError(sink.status().ToString().c_str());
  for (auto _ : state) {
    state.PauseTiming();
    const std::vector<WindowRecord> batch = Records(next_record, kRecordsPerBatch);
    next_record += kRecordsPerBatch;
    state.ResumeTiming();
    Status s = (*sink)->Write(batch);
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
  }
  const InfluxdbMetrics m = (*sink)->metrics();
  state.counters["points/s"] =
      benchmark::Counter(static_cast<double>(m.points_written), benchmark::Counter::kIsRate);
  state.counters["body_bytes/point"] =
      static_cast<double>(m.bytes_sent) /
      static_cast<double>(std::max<std::uint64_t>(1, m.points_written));
}
BENCHMARK(BM_SinkBatch5000)
    ->ArgName("gzip")
    ->Arg(1)
    ->Arg(0)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_OnePointPerRequest(benchmark::State& state) {
  std::string why;
  mh::testing::InfluxdbService* server = Server(&why);
  if (server == nullptr) return state.SkipWithError(why.c_str());
  auto writer = InfluxdbWriter::Open(BenchConfig(*server, /*gzip=*/false));
  if (!writer.ok()) return state.SkipWithError(writer.status().ToString().c_str());
  // Pre-encoded single lines, as the prototype wrote one point per event.
  std::vector<std::string> lines;
  std::string all;
  for (const WindowRecord& r : Records(next_record, 20000)) {
    if (!AppendWindowRecord(r, &all).ok()) return state.SkipWithError("encoding failed");
  }
  next_record += 20000;
  for (std::size_t start = 0; start < all.size();) {
    const std::size_t end = all.find('\n', start) + 1;
    lines.push_back(all.substr(start, end - start));
    start = end;
  }
  std::size_t i = 0;
  for (auto _ : state) {
    if (i == lines.size()) return state.SkipWithError("ran out of pre-encoded points");
    Result<WriteResult> result = (*writer)->Write(lines[i++]);
    if (!result.ok()) return state.SkipWithError(result.status().ToString().c_str());
  }
  state.counters["points/s"] = benchmark::Counter(
      static_cast<double>((*writer)->metrics().points_written), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_OnePointPerRequest)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace mh::sink::influxdb

BENCHMARK_MAIN();
