// The Prometheus dashboard of deploy/grafana/ (issues 17 and 18) against a
// real Prometheus (Debian's prometheus 2.42) scraping the real commands:
// `score --from kafka://` (in-process, librdkafka's mock cluster holding
// feature events replayed into it) and a simulated `run` (the binary, a child
// process, for the database's metrics). Every PromQL expression of every
// panel, with Grafana's variables filled in as Grafana does ($source as an
// escaped regex of the scorer's address, $__rate_interval, $__range), is
// evaluated through Prometheus' HTTP API and must answer a non-empty vector:
// a metric renamed in src/ or in the dashboard fails here. The template
// variable's label_values() is checked the same way, and every metric name
// docs/operations.md lists is charted. Grafana itself is not available here:
// what it does with the answers (units, legends) is configuration only.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "testing/cli_run.h"
#include "testing/influxdb_service.h"
#include "testing/kafka_mock.h"
#include "testing/process.h"
#include "testing/prometheus_service.h"
#include "testing/test_paths.h"

namespace mh::app {
namespace {

using json = nlohmann::json;
using mh::testing::PrometheusService;
using std::chrono::seconds;

constexpr int kEvents = 200;

std::string DashboardPath() {
  return mh::testing::SourceDir() + "/deploy/grafana/dashboards/prometheus/machine-health.json";
}

json LoadDashboard() {
  json d = json::parse(mh::testing::ReadFileText(DashboardPath()), nullptr, false);
  EXPECT_FALSE(d.is_discarded()) << DashboardPath();
  return d.is_discarded() ? json::object() : d;
}

// (panel title + refId, expr) of every panel's targets, rows' panels included.
std::vector<std::pair<std::string, std::string>> Expressions(const json& dashboard) {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<json> panels;
  for (const json& p : dashboard.value("panels", json::array())) {
    panels.push_back(p);
    for (const json& inner : p.value("panels", json::array())) panels.push_back(inner);
  }
  for (const json& p : panels) {
    for (const json& t : p.value("targets", json::array())) {
      out.emplace_back(p.value("title", "") + " " + t.value("refId", ""), t.value("expr", ""));
    }
  }
  return out;
}

// A value as Grafana's Prometheus data source writes a multi-value variable
// into a regex matcher: regex metacharacters escaped with a backslash, that
// backslash doubled for the PromQL string literal.
std::string PromRegexEscape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (std::string_view("\\^$*+?.()|[]{}").find(c) != std::string_view::npos) out += "\\\\";
    out += c;
  }
  return out;
}

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

// The expression as Grafana sends it: $__rate_interval and $__range as
// Grafana computes them for a 1 s scrape interval and a 5 minute range,
// $source one selected value.
std::string Interpolate(std::string expr, const std::string& source) {
  expr = ReplaceAll(expr, "$__rate_interval", "30s");
  expr = ReplaceAll(expr, "$__range", "5m");
  return ReplaceAll(expr, "$source", PromRegexEscape(source));
}

// GET /api/v1/query: the number of elements of the answer (-1 when it fails;
// the answer in *body). Values are not parsed: a quantile of an idle minute
// is NaN, still a series.
int ResultSize(const PrometheusService& prom, const std::string& promql, std::string* body) {
  auto answer = mh::testing::CurlGet(prom.url() + "/api/v1/query?query=" + PercentEncode(promql));
  if (!answer.ok()) {
    *body = answer.status().ToString();
    return -1;
  }
  *body = answer->body;
  const json j = json::parse(answer->body, nullptr, false);
  if (answer->status != 200 || j.is_discarded() || j.value("status", "") != "success") return -1;
  return static_cast<int>(j["data"]["result"].size());
}

double Sum(PrometheusService& prom, const std::string& promql) {
  auto v = prom.Query(promql);
  if (!v.ok() || v->empty()) return -1;
  double sum = 0;
  for (const auto& s : *v) sum += s.value;
  return sum;
}

// Rows of sensor s(i % 4): features a, b, c; every 50th row an outlier.
void WriteTable(const std::string& path, int rows) {
  std::ofstream t(path);
  t.precision(17);
  t << "sensor_id,timestamp,a,b,c\n";
  std::mt19937_64 rng(7);
  std::normal_distribution<double> g(0, 1);
  for (int i = 0; i < rows; ++i) {
    const double scale = i % 50 == 49 ? 8 : 1;
    t << "s" << i % 4 << "," << 1761519890 + i << "," << scale * g(rng) << "," << g(rng) << ","
      << g(rng) << "\n";
  }
}

TEST(GrafanaPrometheusTest, EveryPanelQueryAnswersDataFromScoreAndRun) {
  const std::string dir = mh::testing::MakeTempDir("mh-grafana-prom");
  // A model over a, b, c and the events to score.
  {
    std::ofstream t(dir + "/train.csv");
    std::mt19937_64 rng(5);
    std::normal_distribution<double> g(0, 1);
    t << "a,b,c\n";
    for (int i = 0; i < 1000; ++i) t << g(rng) << "," << g(rng) << "," << g(rng) << "\n";
  }
  auto train = mh::testing::RunCli({"train", "--input", dir + "/train.csv", "--features", "a,b,c",
                                    "--trees", "50", "--seed", "3", "--out", dir + "/m.mhm"});
  ASSERT_EQ(train.code, 0) << train.err;
  WriteTable(dir + "/events.csv", kEvents);

  mh::testing::KafkaMockCluster::Options mock_options;
  mock_options.brokers = 1;
  mock_options.topics = {{"telemetry", 2}};
  auto mock = mh::testing::KafkaMockCluster::Start(mock_options);
  ASSERT_TRUE(mock.ok()) << mock.status().ToString();
  auto replay =
      mh::testing::RunCli({"replay", "--input", dir + "/events.csv", "--sensor-id-column",
                           "sensor_id", "--timestamp-column", "timestamp", "--timestamp-unit", "s",
                           "--feature-keys", "a,b,c", "--to", (*mock)->Address("telemetry")});
  ASSERT_EQ(replay.code, 0) << replay.err;

  const std::string score_target = "127.0.0.1:" + std::to_string(mh::testing::FreeTcpPort());
  const std::string run_target = "127.0.0.1:" + std::to_string(mh::testing::FreeTcpPort());
  auto prom = PrometheusService::Launch({score_target, run_target});
  ASSERT_TRUE(prom.ok()) << prom.status().ToString();
  PrometheusService& p = **prom;

  // `run`, simulated, for the database's gauges (machines, baselines).
  auto run = mh::testing::ChildProcess::Start(
      {mh::testing::BinaryPath(), "run", "--machines", "2", "--learning", "5s", "--http",
       run_target, "--db", dir + "/run.db", "--quiet"},
      dir + "/run.log");
  ASSERT_TRUE(run.ok()) << run.status().ToString();

  const std::string source = (*mock)->Address("telemetry") + "?group=dashboard&start=earliest";
  mh::testing::CliRun score;
  std::thread scorer([&] {
    score = mh::testing::RunCli({"score", "--model", dir + "/m.mhm", "--from", source, "--to",
                                 "jsonl:" + dir + "/scores.jsonl", "--metrics-listen", score_target,
                                 "--stats-interval", "0"});
  });
  // Everything scored and scraped from both; the lag known (and 0).
  EXPECT_TRUE(mh::testing::WaitUntil(
      [&] {
        return Sum(p, "machine_health_events_received_total") == kEvents &&
               Sum(p, "machine_health_sink_windows_written_total{sink=~\"jsonl:.*\"}") == kEvents &&
               Sum(p, "machine_health_source_lag") == 0 && Sum(p, "up") == 2 &&
               Sum(p, "machine_health_machines") == 2;
      },
      seconds(90)))
      << p.LogText() << mh::testing::ReadFileText(dir + "/run.log");

  // The template variable: label_values(METRIC, LABEL) lists the scorer.
  const json dashboard = LoadDashboard();
  const json& variables = dashboard["templating"]["list"];
  ASSERT_EQ(variables.size(), 1u);
  EXPECT_EQ(variables[0]["name"], "source");
  std::smatch m;
  const std::string definition = variables[0]["definition"];
  ASSERT_TRUE(std::regex_match(definition, m, std::regex(R"(label_values\((\w+), (\w+)\))")))
      << definition;
  auto values = p.Query("group by (" + m[2].str() + ") (" + m[1].str() + ")");
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  ASSERT_EQ(values->size(), 1u);
  EXPECT_EQ((*values)[0].labels["source"], source);

  // Every panel's expression answers data.
  const auto expressions = Expressions(dashboard);
  EXPECT_GE(expressions.size(), 30u);
  std::string all_text;
  for (const auto& [what, expr] : expressions) {
    all_text += expr + "\n";
    const std::string promql = Interpolate(expr, source);
    // Only the variables filled in above.
    EXPECT_EQ(promql.find('$'), std::string::npos) << what << ": unknown variable in " << expr;
    std::string body;
    const bool answered =
        mh::testing::WaitUntil([&] { return ResultSize(p, promql, &body) > 0; }, seconds(30));
    EXPECT_TRUE(answered) << what << ": no data for\n  " << promql << "\n  " << body;
  }

  // Every metric docs/operations.md documents is on the dashboard.
  const std::string ops =
      mh::testing::ReadFileText(mh::testing::SourceDir() + "/docs/operations.md");
  std::set<std::string> documented;
  const std::regex kName(R"(\| `((machine_health|process)_[a-z_]+)` \|)");
  for (auto it = std::sregex_iterator(ops.begin(), ops.end(), kName); it != std::sregex_iterator();
       ++it) {
    documented.insert((*it)[1].str());
  }
  EXPECT_GE(documented.size(), 25u);
  for (const std::string& name : documented) {
    EXPECT_NE(all_text.find(name), std::string::npos) << name << " is not on the dashboard";
  }

  // promtool accepts the compose stack's scrape configuration.
  std::string out;
  EXPECT_EQ(mh::testing::RunCommand("promtool check config '" + mh::testing::SourceDir() +
                                        "/deploy/prometheus/prometheus.yml' 2>&1",
                                    &out),
            0)
      << out;

  std::raise(SIGINT);  // as Ctrl-C: score finishes and exits 0
  scorer.join();
  EXPECT_EQ(score.code, 0) << score.err;
  EXPECT_EQ((*run)->Stop(), 0) << mh::testing::ReadFileText(dir + "/run.log");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mh::app
