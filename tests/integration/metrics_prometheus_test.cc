// GET /metrics scraped by a real Prometheus (Debian's prometheus 2.42): `run
// --from dir:` runs in-process (app::RunMain) over 44 real FEMTO snapshots
// and one file that is no snapshot, a Prometheus started by the test scrapes
// it every second, and the counters it stored, read back through its HTTP
// API, equal the events and windows that went through. promtool, the
// format's own linter, checks the exposition.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "testing/cli_run.h"
#include "testing/influxdb_service.h"
#include "testing/process.h"
#include "testing/prometheus_service.h"
#include "testing/test_paths.h"

namespace mh::app {
namespace {

using mh::testing::PrometheusService;

// Sum of the values of `promql`'s vector; -1 when it is empty or fails.
double Sum(PrometheusService& prom, const std::string& promql) {
  auto v = prom.Query(promql);
  if (!v.ok() || v->empty()) return -1;
  double sum = 0;
  for (const auto& s : *v) sum += s.value;
  return sum;
}

// Copies the snapshot files of `from` into `logger` and adds one that is no
// snapshot (it sorts after them: the last event, a dead letter). Returns the
// number of snapshots copied.
int FillLogger(const std::string& from, const std::string& logger) {
  std::filesystem::create_directories(logger);
  int files = 0;
  for (const auto& f : std::filesystem::directory_iterator(from)) {
    std::filesystem::copy_file(f.path(), logger + "/" + f.path().filename().string());
    ++files;
  }
  std::ofstream(logger + "/zz_broken.csv") << "this is,not\na snapshot,file\n";
  return files;
}

// promtool's verdict on GET `url`: "" when it passes, else its output and
// the text.
std::string Lint(const std::string& url, const std::string& dir) {
  auto text = mh::testing::CurlGet(url);
  if (!text.ok() || text->status != 200) return "GET " + url + " failed";
  std::ofstream(dir + "/metrics.txt") << text->body;
  auto lint = mh::testing::ChildProcess::Start(
      {"sh", "-c", "promtool check metrics < '" + dir + "/metrics.txt'"}, dir + "/promtool.log");
  if (!lint.ok()) return lint.status().ToString();
  if ((*lint)->Wait(std::chrono::seconds(30)) == 0) return "";
  std::ifstream in(dir + "/promtool.log");
  return std::string(std::istreambuf_iterator<char>(in), {}) + text->body;
}

TEST(MetricsPrometheus, ScrapedCountersEqualTheEventsAndWindows) {
  MH_REQUIRE_SHARED_DATA();
  const std::string from = mh::testing::SharedDir() + "/data/femto/Bearing2_1";
  if (!std::filesystem::exists(from)) GTEST_SKIP() << from << " is not present";
  const std::string dir = mh::testing::MakeTempDir("mh-metrics-prom");
  ASSERT_EQ(FillLogger(from, dir + "/logger/Bearing2_1"), 44);

  const int port = mh::testing::FreeTcpPort();
  const std::string target = "127.0.0.1:" + std::to_string(port);
  auto prom = PrometheusService::Launch({target});
  ASSERT_TRUE(prom.ok()) << prom.status().ToString();

  // Without once=1 the folder is watched until stopped (Ctrl-C below).
  mh::testing::CliRun run;
  std::thread runner([&] {
    run = mh::testing::RunCli({"run", "--from",
                               "dir:" + dir + "/logger?fs=25600&scan_ms=50&settle_ms=100", "--http",
                               target, "--db", dir + "/run.db", "--learning", "0.8s", "--quiet"});
  });
  const std::string base = "http://" + target;
  // Ready once the scorer runs (the source is a folder: always reachable).
  EXPECT_TRUE(mh::testing::WaitUntil(
      [&] {
        auto r = mh::testing::CurlGet(base + "/readyz");
        return r.ok() && r->status == 200;
      },
      std::chrono::seconds(30)));

  // 45 events in, 1 dead letter, 44 x 5 windows of which 40 (0.8 s) learn.
  const std::string job = "{job=\"machine-health\"}";
  const auto deadline = std::chrono::seconds(60);
  EXPECT_TRUE(mh::testing::WaitUntil(
      [&] {
        return Sum(**prom, "machine_health_events_received_total" + job) == 45 &&
               Sum(**prom, "machine_health_sink_windows_written_total" + job) == 220;
      },
      deadline))
      << (*prom)->LogText();
  PrometheusService& p = **prom;
  EXPECT_EQ(Sum(p, "up" + job), 1);
  EXPECT_EQ(Sum(p, "machine_health_windows_total" + job), 220);
  EXPECT_EQ(Sum(p, "machine_health_windows_scored_total" + job), 180);
  EXPECT_EQ(Sum(p, "machine_health_events_dead_lettered_total" + job), 1);
  auto dead = p.Query("machine_health_events_dead_lettered_total" + job + " > 0");
  ASSERT_TRUE(dead.ok()) << dead.status().ToString();
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].labels["reason"], "undecodable");  // dir: made it an error record
  EXPECT_EQ((*dead)[0].labels["source"],
            "dir:" + dir + "/logger?fs=25600&scan_ms=50&settle_ms=100");
  EXPECT_EQ(Sum(p, "machine_health_sink_write_retries_total" + job), 0);
  EXPECT_EQ(Sum(p, "machine_health_sink_queue_depth" + job), 0);
  // One latency observation per batch written.
  EXPECT_EQ(Sum(p, "machine_health_scoring_duration_seconds_count" + job),
            Sum(p, "machine_health_source_batches_total" + job));
  EXPECT_GT(Sum(p, "machine_health_scoring_duration_seconds_count" + job), 0);
  // The database's gauges: the one machine, scoring by now.
  EXPECT_EQ(Sum(p, "machine_health_machines" + job), 1);
  EXPECT_EQ(Sum(p, "machine_health_machines{job=\"machine-health\",state=\"learning\"}"), 0);
  EXPECT_EQ(Sum(p, "machine_health_baseline_version{machine=\"Bearing2_1\"}"), 1);
  // The process: memory, CPU, a start time within the last hour.
  EXPECT_GT(Sum(p, "process_resident_memory_bytes" + job), 10e6);
  EXPECT_GT(Sum(p, "process_cpu_seconds_total" + job), 0);
  EXPECT_GT(Sum(p, "time() - process_start_time_seconds" + job), 0);
  EXPECT_LT(Sum(p, "time() - process_start_time_seconds" + job), 3600);

  // promtool lints the exposition as served.
  EXPECT_EQ(Lint(base + "/metrics", dir), "");

  std::raise(SIGINT);  // as Ctrl-C: run finishes and exits 0
  runner.join();
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("45 events, 220 windows stored, 1 machines"), std::string::npos)
      << run.out;
  std::filesystem::remove_all(dir);
}

// score --from with --metrics-listen: the streaming scorer without a
// dashboard, one window per snapshot event, scored by a model trained on
// the same snapshots.
TEST(MetricsPrometheus, ScoreFromServesTheSameMetrics) {
  MH_REQUIRE_SHARED_DATA();
  const std::string from = mh::testing::SharedDir() + "/data/femto/Bearing2_1";
  if (!std::filesystem::exists(from)) GTEST_SKIP() << from << " is not present";
  const std::string dir = mh::testing::MakeTempDir("mh-metrics-score");
  auto f =
      mh::testing::RunCli({"features", "--input", from + "/*.csv", "--fs", "25600", "--window",
                           "2560", "--no-mag", "--names", "prototype", "--out", dir + "/f.csv"});
  ASSERT_EQ(f.code, 0) << f.err;
  auto t = mh::testing::RunCli({"train", "--input", dir + "/f.csv", "--features",
                                "rms_acc_horizontal_g,kurtosis_acc_vertical_g", "--out",
                                dir + "/m.mhm"});
  ASSERT_EQ(t.code, 0) << t.err;
  ASSERT_EQ(FillLogger(from, dir + "/logger/Bearing2_1"), 44);

  const int port = mh::testing::FreeTcpPort();
  const std::string target = "127.0.0.1:" + std::to_string(port);
  auto prom = PrometheusService::Launch({target});
  ASSERT_TRUE(prom.ok()) << prom.status().ToString();
  const std::string source = "dir:" + dir + "/logger?fs=25600&scan_ms=50&settle_ms=100";
  mh::testing::CliRun run;
  std::thread runner([&] {
    run = mh::testing::RunCli({"score", "--model", dir + "/m.mhm", "--from", source, "--to",
                               "jsonl:" + dir + "/s.jsonl", "--metrics-listen", target,
                               "--stats-interval", "0"});
  });
  const std::string base = "http://" + target;
  EXPECT_TRUE(mh::testing::WaitUntil(
      [&] {
        auto r = mh::testing::CurlGet(base + "/readyz");
        return r.ok() && r->status == 200;
      },
      std::chrono::seconds(30)));
  const std::string job = "{job=\"machine-health\"}";
  EXPECT_TRUE(mh::testing::WaitUntil(
      [&] {
        return Sum(**prom, "machine_health_events_received_total" + job) == 45 &&
               Sum(**prom, "machine_health_sink_windows_written_total" + job) == 44;
      },
      std::chrono::seconds(60)))
      << (*prom)->LogText();
  PrometheusService& p = **prom;
  EXPECT_EQ(Sum(p, "machine_health_windows_scored_total" + job), 44);
  EXPECT_EQ(Sum(p, "machine_health_events_dead_lettered_total{reason=\"undecodable\"}"), 1);
  auto sink = p.Query("machine_health_sink_windows_written_total" + job);
  ASSERT_TRUE(sink.ok() && sink->size() == 1u);
  EXPECT_EQ((*sink)[0].labels["sink"], "jsonl:" + dir + "/s.jsonl");
  EXPECT_EQ((*sink)[0].labels["source"], "");  // a sink is labelled by its own name only
  EXPECT_EQ(Sum(p, "machine_health_model_features" + job), 2);
  EXPECT_GT(Sum(p, "machine_health_scoring_duration_seconds_count" + job), 0);
  EXPECT_GT(Sum(p, "process_resident_memory_bytes" + job), 10e6);
  EXPECT_EQ(Lint(base + "/metrics", dir), "");

  std::raise(SIGINT);
  runner.join();
  EXPECT_EQ(run.code, 0) << run.err;
  // What the sink wrote: one line per window.
  std::ifstream in(dir + "/s.jsonl");
  int lines = 0;
  for (std::string l; std::getline(in, l);) lines += l.empty() ? 0 : 1;
  EXPECT_EQ(lines, 44);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mh::app
