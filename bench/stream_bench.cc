// stream-bench: end-to-end speed of the streaming scorer against real servers
// started here on loopback (librdkafka's mock Kafka cluster, InfluxDB 1.6),
// with the prototype's pattern (one synchronous InfluxDB write per event)
// measured against the same InfluxDB in the same run.
//
//   stream-bench [--bin build/machine-health] [--events 150000] [--feature-rounds 3]
//                [--victoria true] [--feature-from-options '&prefetch_kb=N']
//                [--waveform-events 1000] [--latency-seconds 10] [--latency-rate R]
//                [--latency-batch 5000] [--latency-linger-ms 50]
//                [--latency-fetch-wait-ms 10]
//                [--prototype-events 2000] [--cpu 1] [--scrape-metrics false]
//                [--feature-runs 4] [--model-swap-seconds 0]
//
// Scenarios (docs/benchmarks.md):
//  1. feature events: N events pre-loaded into a 6-partition topic (the
//     mock cluster retains about 5 MB per partition: ~240,000 such events
//     in all, older ones are deleted; keep N well below that); one
//     `score` process pinned to one core (taskset) reads them and writes to
//     InfluxDB in batches. Rate = events / time from the first stored point
//     to the last (group join excluded); also events per CPU-second of the
//     scorer process, in all and excluding start-up and group join (their
//     CPU measured alone beforehand on an empty topic: scenario 0). Then
//     --feature-rounds - 1 more rounds of N, published while the scorer
//     runs: their CPU is the steady state of a long-running scorer.
//  1v. the same feature events against VictoriaMetrics' InfluxDB /write
//     endpoint (which stores far faster than InfluxDB 1.6 here): the wall
//     rate the scorer reaches when the store keeps up.
//  2. raw tri-axial waveforms: W events of 3 x 2560 samples (fs 25.6 kHz),
//     windowed, featured, scored and written. Samples per second as above;
//     three times: samples as full doubles, rounded to 3 decimals of g as the
//     recordings in ../shared/data are stored, and as binary float64
//     payloads (codec/waveform_binary.h).
//  3. latency: events published at half the rate measured in 1, each
//     stamped with its publish time; the scorer writes to InfluxDB and then
//     to a Kafka scores topic (targets are written in order, so a score on
//     that topic is already stored in InfluxDB); latency = arrival on the
//     scores topic - publish time. p50, p99, max. --latency-rate sets the
//     rate instead.
//  3v. the same into VictoriaMetrics (when 1v ran) at 100,000 events/s: the
//     load the streaming issue asks latency at (half of 200,000 events/s),
//     which InfluxDB 1.6 on these two shared cores cannot store.
//  With --scrape-metrics true every scorer serves --metrics-listen on one
//  loopback port and the bench GETs its /metrics every second throughout
//  (what a Prometheus does), to show what exposition costs the scorer.
//  With --model-swap-seconds S every scorer runs with --model-poll 1s and
//  the bench rewrites its model file every S seconds, alternating two
//  models of the same features: each rewrite is a hot reload (validated,
//  swapped in between batches), to show what reloading costs the scorer.
//  --feature-runs N (1 to 4) runs only the first N feature runs of 1.
//  4. the prototype's pattern: one synchronous HTTP write per event.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/types.h>
#include <unistd.h>

#include "codec/waveform_binary.h"
#include "core/file_util.h"
#include "core/time_util.h"
#include "core/uri.h"
#include "replay/event_json.h"
#include "sink/influxdb/influxdb_config.h"
#include "sink/influxdb/influxdb_writer.h"
#include "testing/influxdb_service.h"
#include "testing/kafka_mock.h"
#include "testing/process.h"
#include "testing/test_paths.h"
#include "testing/victoria_metrics_service.h"
#include "transport/kafka/kafka_transport.h"
#include "waveform_event.h"

namespace mh {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct Args {
  std::string bin;
  long events = 150000;              // per round; the mock cluster keeps ~5 MB per partition
  int feature_rounds = 3;            // scenario 1: rounds after the first are the steady state
  bool victoria = true;              // scenario 1v: the feature run against VictoriaMetrics
  std::string feature_from_options;  // appended to the scorer's --from in 1., e.g. "&prefetch_kb=N"
  long waveform_events = 1000;
  int latency_seconds = 10;
  double latency_rate = 0;         // events/s in scenario 3 (0: half of 1.'s wall rate)
  long latency_batch = 5000;       // the scorer's --batch in scenario 3 (its default)
  int latency_linger_ms = 50;      // the scorer's --linger-ms in scenario 3
  int latency_fetch_wait_ms = 10;  // consumers' fetch_wait_ms in scenario 3
  long prototype_events = 2000;
  int cpu = 1;
  bool scrape_metrics = false;  // scorers serve /metrics, scraped every second
  int feature_runs = 4;         // feature runs of scenario 1 (1 to 4)
  int model_swap_s = 0;         // rewrite the model file this often (0: never)
};

// Thrown to end the run; unwinding stops the servers and scorers started.
struct Failure {
  std::string what;
};

[[noreturn]] void Die(const std::string& what) { throw Failure{what}; }

template <typename T>
T Check(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.status().ToString());
  return std::move(r).value();
}

void Check(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// utime + stime of a process, seconds.
double ProcessCpu(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

class Bench {
 public:
  explicit Bench(Args a) : a_(std::move(a)) {}

  void Run() {
    dir_ = testing::MakeTempDir("stream-bench");
    testing::KafkaMockCluster::Options ko;
    ko.brokers = 3;
    ko.topics = {{"telemetry", 6},  {"telemetry2", 6}, {"telemetry3", 6}, {"telemetry4", 6},
                 {"telemetry5", 6}, {"wave", 6},       {"wave3", 6},      {"waveb", 6},
                 {"idle", 6},       {"lat", 6},        {"scores", 6},     {"latv", 6},
                 {"scoresv", 6}};
    kafka_ = Check(testing::KafkaMockCluster::Start(ko), "kafka mock");
    influx_ = Check(testing::InfluxdbService::Launch(), "influxd");
    for (const char* db : {"features", "features2", "features3", "features4", "wave", "wave3",
                           "waveb", "lat", "proto"}) {
      Check(influx_->CreateDatabase(db), "create database");
    }
    TrainModels();
    if (a_.scrape_metrics) StartScraper();
    if (a_.model_swap_s > 0) StartModelSwapper();
    std::printf(
        "stream-bench: %u cores; scorer pinned to cpu %d; influxd and the mock cluster "
        "unpinned\n\n",
        std::thread::hardware_concurrency(), a_.cpu);
    StartupCpu();
    // Twice each, alternating: on 2 shared cores one run's figures vary by
    // +-15%, and the run after a pre-load tends to be the slowest.
    const double rate = FeatureEvents("telemetry", "features", "");
    if (a_.feature_runs > 1) FeatureEvents("telemetry2", "features2", "?gzip=false");
    if (a_.feature_runs > 2) FeatureEvents("telemetry3", "features3", "");
    if (a_.feature_runs > 3) FeatureEvents("telemetry4", "features4", "?gzip=false");
    if (a_.victoria) FeatureEventsToVictoriaMetrics("telemetry5");
    if (a_.waveform_events > 0) {
      Waveforms("wave", -1);
      Waveforms("wave3", 3);
      Waveforms("waveb", -1, /*binary=*/true);
    }
    if (a_.latency_seconds > 0) {
      const bool asked = a_.latency_rate > 0;
      Latency("3.", "lat", "scores", InfluxTo("lat"), "InfluxDB",
              asked ? a_.latency_rate : rate / 2, asked ? "--latency-rate" : "half of 1.");
      if (victoria_) {
        Latency("3v.", "latv", "scoresv", VictoriaTo(), "VictoriaMetrics",
                asked ? a_.latency_rate : 100000,
                asked ? "--latency-rate" : "half of the issue's 200,000");
      }
    }
    if (a_.prototype_events > 0) Prototype(rate);
    if (a_.model_swap_s > 0) {
      swapping_.store(false);
      swapper_.join();
      std::printf("models: the model file rewritten %d times (every %d s)\n", swaps_.load(),
                  a_.model_swap_s);
    }
    if (a_.scrape_metrics) {
      scraping_.store(false);
      scraper_.join();
      std::printf("metrics: %d scrapes of /metrics answered (one a second while a scorer ran)\n",
                  scrapes_.load());
    }
  }

  ~Bench() {
    scraping_.store(false);
    if (scraper_.joinable()) scraper_.join();
    swapping_.store(false);
    if (swapper_.joinable()) swapper_.join();
  }

 private:
  // Rewrites f.mhm every a_.model_swap_s seconds, alternating the two
  // models (f1.mhm as trained, f2.mhm with another seed).
  void StartModelSwapper() {
    if (Sh("train --input train.csv --features f1,f2,f3,f4,f5,f6 --trees 100 --seed 7 --out "
           "f2.mhm") != 0) {
      Die("train: " + testing::ReadFileText(dir_ + "/sh.log"));
    }
    const std::string models[2] = {testing::ReadFileText(dir_ + "/f.mhm"),
                                   testing::ReadFileText(dir_ + "/f2.mhm")};
    swapping_.store(true);
    swapper_ = std::thread([this, models] {
      auto next = Clock::now() + seconds(a_.model_swap_s);
      while (swapping_.load()) {
        if (Clock::now() < next) {
          std::this_thread::sleep_for(milliseconds(100));
          continue;
        }
        next += seconds(a_.model_swap_s);
        const int n = swaps_.fetch_add(1) + 1;
        if (!WriteFileAtomic(dir_ + "/f.mhm", models[n % 2]).ok()) {
          std::fprintf(stderr, "stream-bench: rewriting f.mhm failed\n");
        }
      }
    });
  }

  // GETs the scorers' /metrics every second (refused while none runs).
  void StartScraper() {
    metrics_port_ = testing::FreeTcpPort();
    scraping_.store(true);
    scraper_ = std::thread([this] {
      const std::string url = "http://127.0.0.1:" + std::to_string(metrics_port_) + "/metrics";
      while (scraping_.load()) {
        auto r = testing::CurlGet(url);
        if (r.ok() && r->status == 200) scrapes_.fetch_add(1);
        for (int i = 0; i < 100 && scraping_.load(); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
    });
  }

  int Sh(const std::string& args) {
    std::string ignored;
    return testing::RunCommand("cd '" + dir_ + "' && '" + a_.bin + "' " + args + " >sh.log 2>&1",
                               &ignored);
  }

  void TrainModels() {
    std::mt19937_64 rng(1);
    std::normal_distribution<double> g(0, 1);
    std::ofstream f(dir_ + "/train.csv");
    f << "f1,f2,f3,f4,f5,f6\n";
    for (int i = 0; i < 5000; ++i) {
      for (int j = 0; j < 6; ++j) f << g(rng) << (j < 5 ? "," : "\n");
    }
    f.close();
    if (Sh("train --input train.csv --features f1,f2,f3,f4,f5,f6 --trees 100 --out f.mhm") != 0) {
      Die("train: " + testing::ReadFileText(dir_ + "/sh.log"));
    }
    std::ofstream w(dir_ + "/wtrain.csv");
    w << "rms_ax,rms_ay,rms_az,kurtosis_ax,kurtosis_ay,kurtosis_az\n";
    for (int i = 0; i < 5000; ++i) {
      for (int j = 0; j < 6; ++j) w << (j < 3 ? 0.7 : 3.0) + 0.05 * g(rng) << (j < 5 ? "," : "\n");
    }
    w.close();
    if (Sh("train --input wtrain.csv --features "
           "rms_ax,rms_ay,rms_az,kurtosis_ax,kurtosis_ay,kurtosis_az --trees 100 --out w.mhm") !=
        0) {
      Die("train: " + testing::ReadFileText(dir_ + "/sh.log"));
    }
  }

  // linger_ms: how long the producer waits to fill a request; 20 ms for the
  // bulk pre-loads, 1 ms where each tick's events should leave at once.
  std::unique_ptr<transport::Publisher> Publisher(const std::string& topic, int linger_ms = 20) {
    return Check(
        transport::kafka::NewKafkaPublisher(Check(
            ParseUri(kafka_->Address(topic) + "?linger_ms=" + std::to_string(linger_ms)), "uri")),
        "kafka publisher");
  }

  // The address of database `db` on the bench's InfluxDB.
  std::string InfluxTo(const std::string& db) const {
    return "influxdb://127.0.0.1:" + std::to_string(influx_->port()) + "/" + db;
  }

  // A scorer of `topic` pinned to a_.cpu, writing to `to` (and `extra_to`).
  std::unique_ptr<testing::ChildProcess> StartScorer(
      const std::string& model, const std::string& topic, const std::string& to,
      const std::vector<std::string>& extra_to, const std::string& log,
      const std::vector<std::string>& extra = {}, const std::string& from_options = "") {
    std::vector<std::string> argv = {
        "taskset",
        "-c",
        std::to_string(a_.cpu),
        a_.bin,
        "score",
        "--model",
        dir_ + "/" + model,
        "--from",
        kafka_->Address(topic) + "?group=bench-" + topic + from_options,
        "--to",
        to,
        "--stats-interval",
        "1"};
    for (const std::string& t : extra_to) {
      argv.push_back("--to");
      argv.push_back(t);
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    if (a_.model_swap_s > 0) {
      argv.push_back("--model-poll");
      argv.push_back("1s");
    }
    if (a_.scrape_metrics) {
      argv.push_back("--metrics-listen");
      argv.push_back("127.0.0.1:" + std::to_string(metrics_port_));
    }
    return Check(testing::ChildProcess::Start(argv, dir_ + "/" + log), "start scorer");
  }

  std::int64_t Count(const std::string& db) {
    auto q = influx_->Query(db, "SELECT COUNT(score) FROM anomaly_score");
    if (!q.ok()) return -1;
    auto j = nlohmann::json::parse(q.value(), nullptr, false);
    try {
      return j["results"][0]["series"][0]["values"][0][1].get<std::int64_t>();
    } catch (...) {
      return 0;
    }
  }

  // The scorer's own count of stored records, from its progress lines
  // (--stats-interval 1): polling InfluxDB instead would cost the server more
  // CPU than the writes being measured.
  std::int64_t LoggedRecords(const std::string& log) {
    const std::string text = testing::ReadFileText(dir_ + "/" + log);
    const std::size_t at = text.rfind("records=");
    return at == std::string::npos ? 0 : std::stoll(text.substr(at + 8));
  }

  // Waits until InfluxDB holds n scores in `db`, polling every 250 ms (more
  // often would cost the server noticeable CPU); returns (first scores seen,
  // all seen).
  std::pair<Clock::time_point, Clock::time_point> WaitStored(const std::string& db, long n,
                                                             testing::ChildProcess& scorer,
                                                             const std::string& log) {
    Clock::time_point first{};
    const auto deadline = Clock::now() + seconds(900);
    while (Clock::now() < deadline) {
      const std::int64_t c = Count(db);
      if (c > 0 && first == Clock::time_point{}) first = Clock::now();
      if (c >= n) return {first, Clock::now()};
      if (!scorer.Running()) Die("scorer exited: " + testing::ReadFileText(dir_ + "/" + log));
      std::this_thread::sleep_for(milliseconds(250));
    }
    Die("timed out waiting for " + std::to_string(n) + " scores in " + db + " (have " +
        std::to_string(Count(db)) + ", scorer reported " + std::to_string(LoggedRecords(log)) +
        ")");
  }

  // CPU of a scorer's start-up (model load, connections) and consumer group
  // join, measured alone on an empty topic: subtracted from the feature
  // runs' CPU for their "excluding start-up" figure. (CPU sampled at the
  // first stored scores would not do: librdkafka prefetches and decompresses
  // far ahead of what is stored.)
  void StartupCpu() {
    auto scorer = StartScorer("f.mhm", "idle", InfluxTo("features"), {}, "score-idle.log");
    const bool joined = testing::WaitUntil(
        [&] {
          return testing::ReadFileText(dir_ + "/score-idle.log").find("assigned [") !=
                 std::string::npos;
        },
        seconds(60));
    if (!joined)
      Die("idle scorer did not join: " + testing::ReadFileText(dir_ + "/score-idle.log"));
    startup_cpu_ = ProcessCpu(scorer->pid());
    scorer->Stop();
    std::printf("0. scorer start-up and group join, alone: %.2f s CPU\n\n", startup_cpu_);
  }

  // Publishes `n` feature events numbered from `first` (timestamps 1 ms
  // apart, 100 sensors) to `pub`.
  static void PublishFeatureEvents(transport::Publisher& pub, long first, long n) {
    std::mt19937_64 rng(2 + static_cast<std::uint64_t>(first));
    std::normal_distribution<double> g(0, 1);
    const std::vector<std::string> keys = {"feature_1", "feature_2", "feature_3",
                                           "feature_4", "feature_5", "feature_6"};
    std::vector<transport::OutgoingMessage> batch;
    std::vector<double> v(6);
    for (long i = first; i < first + n; ++i) {
      for (double& x : v) x = g(rng);
      const std::string id = "s" + std::to_string(i % 100);
      transport::OutgoingMessage m;
      m.key = id;
      replay::AppendFeatureEventJson({id, 1761519890.0 + static_cast<double>(i) * 1e-3, keys, v},
                                     &m.payload);
      batch.push_back(std::move(m));
      if (batch.size() == 10000 || i + 1 == first + n) {
        Check(pub.Publish(batch), "publish");
        batch.clear();
      }
    }
  }

  // Round 1: a_.events pre-loaded, then the scorer started (figures in all
  // and excluding start-up). Rounds 2..a_.feature_rounds: a_.events more
  // each, published while the scorer runs and waited for before the next
  // (the mock cluster keeps only ~5 MB per partition); their CPU is the
  // steady state of a long-running scorer, whose buffers (librdkafka's
  // prefetch queue, batches) are reused rather than newly faulted in.
  double FeatureEvents(const std::string& topic, const std::string& db,
                       const std::string& influx_options) {
    auto pub = Publisher(topic);
    const auto t0 = Clock::now();
    PublishFeatureEvents(*pub, 0, a_.events);
    const double pub_s = Seconds(Clock::now() - t0);
    std::printf("1. feature events: %ld pre-loaded into Kafka in %.2f s (%.0f events/s publish)\n",
                a_.events, pub_s, static_cast<double>(a_.events) / pub_s);

    const std::string log = "score-" + db + ".log";
    auto scorer = StartScorer("f.mhm", topic, InfluxTo(db + influx_options), {}, log, {},
                              a_.feature_from_options);
    const auto [first, last] = WaitStored(db, a_.events, *scorer, log);
    const double cpu = ProcessCpu(scorer->pid());
    // Stored within one polling interval: the wall time is not known better
    // than that (and the latency run must not be asked for an absurd rate).
    const double wall = std::max(Seconds(last - first), 0.25);
    const double rate = static_cast<double>(a_.events) / wall;
    const double work_cpu = cpu - startup_cpu_;
    std::printf(
        "   Kafka -> score -> InfluxDB%s (2 points/event: anomaly_score + "
        "signal_features):\n   %.0f events/s wall (first to last stored, %.2f s, 250 ms "
        "polling); scorer CPU %.2f s = %.0f events per CPU-second in all, %.0f excluding "
        "start-up and group join (%.2f s)\n",
        influx_options.empty() ? " (gzip)" : influx_options.c_str(), rate, wall, cpu,
        static_cast<double>(a_.events) / cpu,
        work_cpu > 0 ? static_cast<double>(a_.events) / work_cpu : NAN, work_cpu);

    long done = a_.events;
    double later_wall = 0;
    for (int round = 2; round <= a_.feature_rounds; ++round) {
      const auto r0 = Clock::now();
      PublishFeatureEvents(*pub, done, a_.events);
      done += a_.events;
      WaitStored(db, done, *scorer, log);
      later_wall += Seconds(Clock::now() - r0);
    }
    if (a_.feature_rounds > 1) {
      const double later_cpu = ProcessCpu(scorer->pid()) - cpu;
      const double later_events = static_cast<double>(done - a_.events);
      std::printf(
          "   steady state, %d more rounds of %ld published while the scorer runs: %.0f events "
          "per CPU-second (%.2f s CPU), %.0f events/s wall (publish start to last stored)\n",
          a_.feature_rounds - 1, a_.events, later_events / later_cpu, later_cpu,
          later_events / later_wall);
    }
    if (a_.model_swap_s > 0) {
      const std::string text = testing::ReadFileText(dir_ + "/" + log);
      int swapped = 0;
      for (std::size_t at = 0; (at = text.find("now scoring with model", at)) != std::string::npos;
           ++at) {
        ++swapped;
      }
      std::printf("   models swapped in by this scorer: %d\n", swapped);
    }
    std::printf("\n");
    Check(pub->Close(), "close");
    scorer->Stop();
    return rate;
  }

  // Scores stored in VictoriaMetrics (all series of anomaly_score), -1 when
  // the query fails.
  static std::int64_t VictoriaCount(const testing::VictoriaMetricsService& vm) {
    if (!testing::CurlGet(vm.url() + "/internal/force_flush").ok()) return -1;
    auto a = testing::CurlGet(
        vm.url() + "/api/v1/query?query=sum(count_over_time(anomaly_score_score%5B10y%5D))");
    if (!a.ok() || a->status != 200) return -1;
    const auto j = nlohmann::json::parse(a->body, nullptr, false);
    try {
      const auto& result = j["data"]["result"];
      if (result.empty()) return 0;
      return std::stoll(result[0]["value"][1].get<std::string>());
    } catch (...) {
      return -1;
    }
  }

  // The address of the bench's VictoriaMetrics (InfluxDB line protocol on /write).
  std::string VictoriaTo() const {
    return "influxdb://127.0.0.1:" + std::to_string(victoria_->port()) + "/vm";
  }

  // 1v. The feature run of 1. (gzip) against VictoriaMetrics, which takes
  // InfluxDB line protocol on /write and stores far faster than InfluxDB
  // 1.6: the wall rate of the scorer itself when the store keeps up. Starts
  // victoria_, which 3v uses too.
  void FeatureEventsToVictoriaMetrics(const std::string& topic) {
    victoria_ = Check(testing::VictoriaMetricsService::Launch(), "victoria-metrics");
    auto pub = Publisher(topic);
    PublishFeatureEvents(*pub, 0, a_.events);
    Check(pub->Close(), "close");
    const std::string log = "score-" + topic + ".log";
    auto scorer = StartScorer("f.mhm", topic, VictoriaTo(), {}, log);
    Clock::time_point first{}, last{};
    const auto deadline = Clock::now() + seconds(300);
    for (;;) {
      const std::int64_t c = VictoriaCount(*victoria_);
      if (c > 0 && first == Clock::time_point{}) first = Clock::now();
      if (c >= a_.events) {
        last = Clock::now();
        break;
      }
      if (!scorer->Running()) Die("scorer exited: " + testing::ReadFileText(dir_ + "/" + log));
      if (Clock::now() > deadline) Die("timed out waiting for scores in VictoriaMetrics");
      std::this_thread::sleep_for(milliseconds(50));
    }
    const double cpu = ProcessCpu(scorer->pid());
    scorer->Stop();
    const double wall = Seconds(last - first);
    std::printf(
        "1v. the same %ld feature events (gzip) -> VictoriaMetrics (/write, line protocol):\n"
        "   %.0f events/s wall (first to last stored, %.2f s, 50 ms polling); scorer CPU %.2f s "
        "= %.0f events per CPU-second excluding start-up\n\n",
        a_.events, static_cast<double>(a_.events) / wall, wall, cpu,
        static_cast<double>(a_.events) / (cpu - startup_cpu_));
  }

  // Waveform events are ~150 kB of JSON each and the mock cluster keeps only
  // ~30 MB in all, so they are published in rounds of kRound events, each
  // consumed before the next is published; the rate counts the time from
  // the end of a round's publishing to its last score stored.
  // decimals < 0: samples as full doubles (17 significant digits, the worst
  // case for JSON number parsing); else rounded to that many decimals, as
  // accelerometer recordings are usually stored (FEMTO and IMS in
  // ../shared/data: 3 decimals of g).
  // binary: the same samples as binary float64 payloads
  // (codec/waveform_binary.h) instead of JSON.
  void Waveforms(const std::string& topic, int decimals, bool binary = false) {
    constexpr long kRound = 100;
    auto pub = Publisher(topic);
    const std::vector<std::string> channels = {"ax", "ay", "az"};
    std::vector<std::vector<double>> samples(3, std::vector<double>(2560));
    std::mt19937_64 rng(3);
    std::size_t bytes = 0;
    const std::string log = "score-" + topic + ".log";
    auto scorer = StartScorer("w.mhm", topic, InfluxTo(topic), {}, log);
    double consume_s = 0;
    long done = 0;
    double cpu_first_round = 0;  // scorer CPU when the first round was stored
    long first_round = 0;
    while (done < a_.waveform_events) {
      std::vector<transport::OutgoingMessage> batch;
      const long n = std::min(kRound, a_.waveform_events - done);
      for (long i = done; i < done + n; ++i) {
        bench::FillWaveform(rng, decimals, samples);
        const std::string id = "m" + std::to_string(i % 20);
        transport::OutgoingMessage m;
        m.key = id;
        if (binary) {
          codec::WaveformHeader h;
          h.sensor_id = id;
          h.has_timestamp = true;
          h.timestamp_ns = 1761519890000000000 + i * 100000000;
          h.fs_hz = 25600;
          h.type = codec::SampleType::kFloat64;
          Check(codec::AppendWaveformBinary(h, channels, samples, codec::kMaxWaveformSamples,
                                            &m.payload),
                "encode");
        } else {
          replay::AppendWaveformEventJson(
              {id, 1761519890.0 + static_cast<double>(i) * 0.1, 25600, channels, samples},
              &m.payload);
        }
        bytes += m.payload.size();
        batch.push_back(std::move(m));
      }
      Check(pub->Publish(batch), "publish");
      const auto t0 = Clock::now();
      done += n;
      WaitStored(topic, done, *scorer, log);
      consume_s += Seconds(Clock::now() - t0);
      if (first_round == 0) {
        first_round = done;
        cpu_first_round = ProcessCpu(scorer->pid());
      }
    }
    Check(pub->Close(), "close");
    const double cpu = ProcessCpu(scorer->pid());
    scorer->Stop();
    const double total_samples = static_cast<double>(a_.waveform_events) * 3 * 2560;
    // Steady state: the rounds after the first (start-up, model load and
    // group join left out).
    const double later_samples = static_cast<double>(a_.waveform_events - first_round) * 3 * 2560;
    const double later_cpu = cpu - cpu_first_round;
    std::printf(
        "2. raw waveforms, samples %s: %ld events x 3 channels x 2560 samples (%.1f M samples, "
        "%.0f MB of %s), in rounds of %ld\n",
        binary         ? "as binary float64 payloads"
        : decimals < 0 ? "as full doubles"
                       : ("rounded to " + std::to_string(decimals) + " decimals").c_str(),
        a_.waveform_events, total_samples / 1e6, static_cast<double>(bytes) / 1e6,
        binary ? "binary" : "JSON", kRound);
    std::printf(
        "   Kafka -> decode -> features -> score -> InfluxDB: %.1f M samples/s wall "
        "(%.2f s, 250 ms polling granularity per round); scorer CPU %.2f s (incl. group "
        "join) = %.1f M samples per CPU-second in all, %.1f M in steady state (rounds after "
        "the first: %.2f s)\n\n",
        total_samples / consume_s / 1e6, consume_s, cpu, total_samples / cpu / 1e6,
        later_cpu > 0 ? later_samples / later_cpu / 1e6 : NAN, later_cpu);
  }

  // Events published at `rate` to `topic`, scored into `to` (`store` names
  // it) and then onto a Kafka scores topic; latency = arrival there - publish.
  void Latency(const std::string& label, const std::string& topic, const std::string& scores_topic,
               const std::string& to, const std::string& store, double rate,
               const std::string& rate_from) {
    // A batch closes at --latency-batch events or --latency-linger-ms,
    // whichever comes first.
    // The mock cluster holds a fetch that finds no data for the whole
    // fetch.wait.max.ms (librdkafka's default 500 ms; a Kafka broker answers
    // when data arrives), so both consumers here ask for a short wait.
    const std::string fetch_wait = "&fetch_wait_ms=" + std::to_string(a_.latency_fetch_wait_ms);
    const std::string log = "score-" + topic + ".log";
    auto scorer =
        StartScorer("f.mhm", topic, to, {kafka_->Address(scores_topic) + "?linger_ms=1"}, log,
                    {"--batch", std::to_string(a_.latency_batch), "--linger-ms",
                     std::to_string(a_.latency_linger_ms)},
                    fetch_wait);
    auto scores = Check(
        transport::kafka::NewKafkaSubscriber(Check(
            ParseUri(kafka_->Address(scores_topic) + "?group=latency-reader-" + topic + fetch_wait),
            "uri")),
        "scores subscriber");
    auto pub = Publisher(topic, 1);
    // Warm up: one event, wait until its score arrives (group joins done).
    std::vector<double> v = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
    const std::vector<std::string> keys = {"feature_1", "feature_2", "feature_3",
                                           "feature_4", "feature_5", "feature_6"};
    auto event = [&](long i) {
      transport::OutgoingMessage m;
      m.key = "s" + std::to_string(i % 100);
      const double now_s = static_cast<double>(WallNowNs() / 1000) / 1e6;
      replay::AppendFeatureEventJson({m.key, now_s, keys, v}, &m.payload);
      return m;
    };
    std::vector<transport::OutgoingMessage> warm = {event(0)};
    Check(pub->Publish(warm), "publish");
    const auto warm_deadline = Clock::now() + seconds(60);
    bool warmed = false;
    while (!warmed && Clock::now() < warm_deadline) {
      auto got = scores->Poll(100, milliseconds(200));
      warmed = got.ok() && !got.value().empty();
    }
    if (!warmed) Die("latency: no score arrived: " + testing::ReadFileText(dir_ + "/" + log));

    std::atomic<bool> done{false};
    std::vector<double> latencies;
    std::thread reader([&] {
      while (!done.load() || latencies.size() < 1) {
        auto got = scores->Poll(10000, milliseconds(100));
        if (!got.ok()) continue;
        const std::int64_t now = WallNowNs();
        for (const auto& m : got.value()) {
          const auto j = nlohmann::json::parse(m.payload, nullptr, false);
          if (j.is_discarded()) continue;
          latencies.push_back(static_cast<double>(now) / 1e9 - j["timestamp"].get<double>());
        }
        if (done.load()) break;
      }
    });
    const long total = static_cast<long>(rate * a_.latency_seconds);
    const long per_tick = std::max(1L, static_cast<long>(rate / 100));  // every 10 ms
    const auto start = Clock::now();
    long sent = 0;
    for (long tick = 0; sent < total; ++tick) {
      std::this_thread::sleep_until(start + milliseconds(10 * tick));
      std::vector<transport::OutgoingMessage> batch;
      for (long k = 0; k < per_tick && sent < total; ++k) batch.push_back(event(++sent));
      Check(pub->Publish(batch), "publish");
    }
    const double send_s = Seconds(Clock::now() - start);
    // Wait for the last scores.
    testing::WaitUntil([&] { return static_cast<long>(latencies.size()) >= total; }, seconds(60));
    done = true;
    reader.join();
    const double scorer_cpu = ProcessCpu(scorer->pid());
    scorer->Stop();
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) {
      return latencies.empty()
                 ? NAN
                 : latencies[std::min(
                       latencies.size() - 1,
                       static_cast<std::size_t>(p * static_cast<double>(latencies.size())))];
    };
    std::printf(
        "%s latency at %.0f events/s (asked %.0f: %s) for %.1f s, scorer --batch %ld "
        "--linger-ms %d, fetch_wait_ms=%d, %zu of %ld scores seen:\n"
        "   publish -> stored in %s (and on the scores topic): p50 %.0f ms, p99 %.0f "
        "ms, max %.0f ms; scorer CPU %.2f s\n\n",
        label.c_str(), static_cast<double>(sent) / send_s, rate, rate_from.c_str(), send_s,
        a_.latency_batch, a_.latency_linger_ms, a_.latency_fetch_wait_ms, latencies.size(), total,
        store.c_str(), pct(0.5) * 1e3, pct(0.99) * 1e3,
        latencies.empty() ? NAN : latencies.back() * 1e3, scorer_cpu);
  }

  void Prototype(double batched_rate) {
    auto config =
        Check(sink::influxdb::ConfigFromUri(
                  Check(ParseUri("influxdb://127.0.0.1:" + std::to_string(influx_->port()) +
                                 "/proto?gzip=false"),
                        "uri"),
                  ProcessEnvironment()),
              "config");
    auto writer = Check(sink::influxdb::InfluxdbWriter::Open(config), "writer");
    const auto t0 = Clock::now();
    for (long i = 0; i < a_.prototype_events; ++i) {
      const std::string line = "anomaly_score,sensor_id=s" + std::to_string(i % 100) +
                               " score=" + std::to_string(0.01 * static_cast<double>(i % 50)) +
                               " " + std::to_string(1761519890000000000LL + i * 1000000LL) + "\n";
      Check(writer->Write(line), "prototype write");
    }
    const double s = Seconds(Clock::now() - t0);
    const double proto_rate = static_cast<double>(a_.prototype_events) / s;
    std::printf(
        "4. the prototype's pattern (one synchronous InfluxDB write per event, keep-alive): "
        "%.0f events/s (%ld events in %.2f s)\n"
        "   batched scorer of 1. vs prototype pattern: %.0fx\n",
        proto_rate, a_.prototype_events, s, batched_rate / proto_rate);
  }

  Args a_;
  std::string dir_;
  std::unique_ptr<testing::KafkaMockCluster> kafka_;
  std::unique_ptr<testing::InfluxdbService> influx_;
  std::unique_ptr<testing::VictoriaMetricsService> victoria_;  // started by scenario 1v
  double startup_cpu_ = 0;  // CPU seconds of a scorer's start-up and group join
  int metrics_port_ = 0;    // --scrape-metrics: the scorers' --metrics-listen port
  std::atomic<bool> scraping_{false};
  std::atomic<int> scrapes_{0};
  std::thread swapper_;
  std::atomic<bool> swapping_{false};
  std::atomic<int> swaps_{0};
  std::thread scraper_;
};

}  // namespace
}  // namespace mh

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  mh::Args a;
  if (const char* b = std::getenv("MH_BINARY")) a.bin = b;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--bin")
      a.bin = v;
    else if (k == "--events")
      a.events = std::stol(v);
    else if (k == "--feature-rounds")
      a.feature_rounds = std::stoi(v);
    else if (k == "--feature-from-options")
      a.feature_from_options = v;
    else if (k == "--victoria")
      a.victoria = v != "0" && v != "false";
    else if (k == "--waveform-events")
      a.waveform_events = std::stol(v);
    else if (k == "--latency-seconds")
      a.latency_seconds = std::stoi(v);
    else if (k == "--latency-rate")
      a.latency_rate = std::stod(v);
    else if (k == "--latency-batch")
      a.latency_batch = std::stol(v);
    else if (k == "--latency-linger-ms")
      a.latency_linger_ms = std::stoi(v);
    else if (k == "--latency-fetch-wait-ms")
      a.latency_fetch_wait_ms = std::stoi(v);
    else if (k == "--prototype-events")
      a.prototype_events = std::stol(v);
    else if (k == "--cpu")
      a.cpu = std::stoi(v);
    else if (k == "--scrape-metrics")
      a.scrape_metrics = v != "0" && v != "false";
    else if (k == "--feature-runs")
      a.feature_runs = std::stoi(v);
    else if (k == "--model-swap-seconds")
      a.model_swap_s = std::stoi(v);
    else
      mh::Die("unknown option " + k);
  }
  if (a.bin.empty()) a.bin = MH_BINARY_PATH;
  try {
    mh::Bench(a).Run();
  } catch (const mh::Failure& f) {
    std::cerr << "stream-bench: " << f.what << "\n";
    return 1;
  }
  return 0;
}
