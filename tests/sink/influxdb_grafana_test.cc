// The Grafana dashboards and provisioning files of deploy/grafana/ (issue 17);
// the Prometheus dashboard's queries run in tests/integration/grafana_prometheus_test.cc.
//
// InfluxQL: every dashboard file is parsed, every query (panels and template
// variables) is interpolated the way Grafana's InfluxDB data source does
// ($timeFilter, $__interval, $machine, $feature) and run against a real
// influxd 1.6 holding two hours of four machines written by the sink, with the
// rollups of deploy/influxdb/ applied; the answers are compared with values
// computed here from the written records. Grafana itself is not available, so
// what Grafana does after the query (table transformations, sorting) is
// checked as configuration only.
//
// Flux (no InfluxDB 2 here): the queries are checked for the seed's bucket,
// measurement, tag and field names, Grafana's variables and macros; they were
// checked by hand with the Flux language server (deploy/grafana/README.md).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "influxdb_deploy_files.h"
#include "sink/influxdb/influxdb_sink.h"
#include "testing/influxdb_service.h"
#include "testing/test_paths.h"

namespace mh::sink::influxdb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;
using deploy_files::Backfill;
using deploy_files::ContinuousQueries;
using deploy_files::PostQuery;
using deploy_files::ReadText;
using deploy_files::Stats;

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kSecond = 1000 * kMs;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kStep = 10 * kSecond;  // one window every 10 s
constexpr std::int64_t kSpan = 2 * kHour;     // the data and the dashboards' time range
constexpr std::int64_t kWindows = kSpan / kStep;
const std::vector<std::string> kMachines = {"m1", "m2", "m3", "m4"};
// Machines whose latest window is anomalous (in alarm on the fleet overview).
const std::set<std::string> kLatestAnomalous = {"m2", "m4"};
const auto kNames = std::make_shared<const std::vector<std::string>>(
    std::vector<std::string>{"rms_ax", "rms_ay", "rms_ac_ax", "kurtosis_ax", "velocity_rms_ax"});

const char kInfluxqlUid[] = "machine-health-influxql";
const char kFluxUid[] = "machine-health-flux";
const char kPrometheusUid[] = "machine-health-prometheus";

std::string GrafanaDir() { return mh::testing::SourceDir() + "/deploy/grafana"; }

json LoadDashboard(const std::string& language, const std::string& name) {
  const std::string path = GrafanaDir() + "/dashboards/" + language + "/" + name + ".json";
  const std::string text = ReadText(path);
  EXPECT_FALSE(text.empty()) << path;
  json dashboard = json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(dashboard.is_discarded()) << path << " is not valid JSON";
  return dashboard.is_discarded() ? json::object() : dashboard;
}

// Every panel, those inside rows included.
std::vector<json> Panels(const json& dashboard) {
  std::vector<json> panels;
  for (const json& p : dashboard.value("panels", json::array())) {
    panels.push_back(p);
    for (const json& inner : p.value("panels", json::array())) panels.push_back(inner);
  }
  return panels;
}

json FindPanel(const json& dashboard, const std::string& title) {
  for (const json& p : Panels(dashboard)) {
    if (p.value("title", "") == title) return p;
  }
  ADD_FAILURE() << "no panel '" << title << "' in " << dashboard.value("uid", "?");
  return json::object();
}

std::string PanelQuery(const json& dashboard, const std::string& title, const std::string& ref) {
  for (const json& t : FindPanel(dashboard, title).value("targets", json::array())) {
    if (t.value("refId", "") == ref) return t.value("query", "");
  }
  ADD_FAILURE() << "panel '" << title << "' has no query " << ref;
  return "";
}

// Grafana's escaping of a variable value inside an InfluxQL /regex/.
std::string RegexEscape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (std::string_view("\\^$*+?.()|[]{}/").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// What Grafana sends for an InfluxQL query over the absolute range
// [from_ms, to_ms]: $timeFilter is "time >= Xms and time <= Yms", $__interval
// the group interval it computed, a multi-value variable "(a|b)" with each
// value regex-escaped, a single value escaped too (older Grafana versions
// insert it as is: the same for the test's names, which hold no regex
// characters).
struct GrafanaRange {
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  std::string interval;
  std::map<std::string, std::vector<std::string>> variables;
};

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
  return text;
}

std::string InterpolateInfluxql(std::string query, const GrafanaRange& range) {
  query = ReplaceAll(query, "$timeFilter",
                     "time >= " + std::to_string(range.from_ms) +
                         "ms and time <= " + std::to_string(range.to_ms) + "ms");
  query = ReplaceAll(query, "$__interval", range.interval);
  for (const auto& [name, values] : range.variables) {
    std::string value;
    if (values.size() == 1) {
      value = RegexEscape(values[0]);
    } else {
      for (const std::string& v : values) value += (value.empty() ? "(" : "|") + RegexEscape(v);
      value += ")";
    }
    query = ReplaceAll(query, "${" + name + "}", value);
    query = ReplaceAll(query, "$" + name, value);
  }
  // Nothing Grafana would have replaced is left ($ before a name; a regex's
  // end anchor "$/" is not a variable).
  EXPECT_FALSE(std::regex_search(query, std::regex(R"(\$[A-Za-z_{])"))) << query;
  return query;
}

// Two hours of windows of every machine from `start` (hour-aligned). Values
// are multiples of 1/64, so sums and means are exact here and in influxd.
// Every 7th window is still learning (no score); the latest window of each
// machine is anomalous exactly for kLatestAnomalous.
std::vector<WindowRecord> MakeWindows(std::int64_t start) {
  std::vector<WindowRecord> records;
  std::uint64_t state = 4242;
  auto next = [&state](int range) {  // LCG: deterministic, independent of the library
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((state >> 33) % static_cast<std::uint64_t>(range));
  };
  for (std::int64_t i = 0; i < kWindows; ++i) {
    for (std::size_t m = 0; m < kMachines.size(); ++m) {
      WindowRecord r;
      r.machine_id = kMachines[m];
      r.window_start_ns = start + i * kStep;
      r.feature_names = kNames;
      r.features = {next(256) / 64.0, next(256) / 64.0, next(128) / 64.0, next(640) / 64.0 - 3,
                    next(512) / 64.0};
      r.rms = r.features[0];
      if (i % 7 != 3) {
        r.threshold = -static_cast<double>(m + 1) / 8;  // -0.125 .. -0.5
        r.score = (next(129) - 64) / 64.0;
        if (i == kWindows - 1) {
          r.score = kLatestAnomalous.count(r.machine_id) ? r.threshold - 0.25 : 0.5;
        }
        r.score_samples = r.score - 0.5;
        r.anomaly = r.score < r.threshold;
      }
      records.push_back(std::move(r));
    }
  }
  return records;
}

// A number of an answer (a test failure and NaN / -1 when it is not one, e.g.
// null for a field that does not exist).
double Num(const json& value) {
  if (value.is_number()) return value.get<double>();
  ADD_FAILURE() << "not a number: " << value.dump();
  return NAN;
}
std::int64_t Int(const json& value) {
  if (value.is_number_integer()) return value.get<std::int64_t>();
  ADD_FAILURE() << "not an integer: " << value.dump();
  return -1;
}

// One series of an InfluxQL answer.
struct Series {
  std::map<std::string, std::string> tags;
  std::vector<std::string> columns;
  json values;  // rows, first column the time (ns)
  // Column `name` of every row, keyed by time.
  std::map<std::int64_t, json> Column(const std::string& name) const {
    std::map<std::int64_t, json> out;
    const auto it = std::find(columns.begin(), columns.end(), name);
    EXPECT_NE(it, columns.end()) << "no column " << name;
    if (it == columns.end()) return out;
    const std::size_t c = static_cast<std::size_t>(it - columns.begin());
    for (const json& row : values) out[row[0].get<std::int64_t>()] = row[c];
    return out;
  }
};

// The first value column of the first row (null and a test failure when the series is empty).
json FirstValue(const Series& series) {
  if (series.values.is_array() && !series.values.empty() && series.values[0].size() > 1) {
    return series.values[0][1];
  }
  ADD_FAILURE() << "no rows";
  return nullptr;
}

class GrafanaInfluxqlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto influx = mh::testing::InfluxdbService::Launch();
    ASSERT_TRUE(influx.ok()) << influx.status().ToString();
    influx_ = std::move(influx).value().release();
    // The retention policies and rollups of deploy/influxdb/, as a user applies them.
    const std::string iql =
        ReadText(mh::testing::SourceDir() + "/deploy/influxdb/influxdb1-retention.iql");
    ASSERT_FALSE(iql.empty());
    ASSERT_EQ(PostQuery(*influx_, "", iql).size(), 10u);

    // Two hours two days ago (inside the 30-day raw policy, out of reach of
    // the running continuous queries), written by the sink.
    const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    start_ = now / kDay * kDay - 2 * kDay + 6 * kHour;
    records_ = new std::vector<WindowRecord>(MakeWindows(start_));
    InfluxdbConfig config;
    config.api = ApiVersion::kV1;
    config.host = "127.0.0.1";
    config.port = influx_->port();
    config.database = "iiot";
    auto sink = OpenInfluxdbSink(config);
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    Status s = (*sink)->Write(*records_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ((*sink)->metrics().rejected_points, 0u);
    // The rollups of those hours, by the file's own continuous queries.
    for (const deploy_files::ContinuousQuery& q : ContinuousQueries(iql)) {
      ASSERT_EQ(PostQuery(*influx_, "iiot", Backfill(q.select, start_, start_ + kSpan)).size(), 1u)
          << q.name;
    }
  }
  static void TearDownTestSuite() {
    delete influx_;
    influx_ = nullptr;
    delete records_;
    records_ = nullptr;
  }

  // The dashboards' range over the data: [start, start + 2 h), in ms, as Grafana sends it.
  static GrafanaRange Range(const std::string& interval) {
    GrafanaRange range;
    range.from_ms = start_ / kMs;
    range.to_ms = (start_ + kSpan) / kMs - 1;
    range.interval = interval;
    range.variables = {{"machine", {"m3"}}, {"feature", {"rms_ax", "kurtosis_ax"}}};
    return range;
  }

  // Runs the interpolated query; every series of its one statement.
  static std::vector<Series> Run(const std::string& query, const GrafanaRange& range) {
    std::vector<Series> out;
    const std::string influxql = InterpolateInfluxql(query, range);
    Result<std::string> text = influx_->Query("iiot", influxql);
    EXPECT_TRUE(text.ok()) << influxql << ": " << text.status().ToString();
    if (!text.ok()) return out;
    const json answer = json::parse(*text);
    EXPECT_EQ(answer["results"].size(), 1u) << influxql;
    const json& result = answer["results"][0];
    EXPECT_FALSE(result.contains("error")) << influxql << ": " << *text;
    for (const json& s : result.value("series", json::array())) {
      Series series;
      const json tags = s.value("tags", json::object());
      for (const auto& [k, v] : tags.items()) series.tags[k] = v.get<std::string>();
      for (const json& c : s["columns"]) series.columns.push_back(c.get<std::string>());
      series.values = s["values"];
      out.push_back(std::move(series));
    }
    return out;
  }

  // The single series of a query without GROUP BY tag.
  static Series RunOne(const std::string& query, const GrafanaRange& range) {
    std::vector<Series> all = Run(query, range);
    EXPECT_EQ(all.size(), 1u) << query;
    return all.empty() ? Series{} : all[0];
  }

  // Series by the value of tag `tag`.
  static std::map<std::string, Series> RunByTag(const std::string& query, const GrafanaRange& range,
                                                const std::string& tag) {
    std::map<std::string, Series> out;
    for (Series& s : Run(query, range)) {
      EXPECT_TRUE(s.tags.count(tag)) << query;
      out[s.tags[tag]] = std::move(s);
    }
    return out;
  }

  // Expected per-interval statistics of one value of the scored (or all)
  // windows of `machine` ("" = every machine), keyed by interval start.
  template <typename Value>
  static std::map<std::int64_t, Stats> PerInterval(const std::string& machine,
                                                   std::int64_t interval, bool scored_only,
                                                   Value value) {
    std::map<std::int64_t, Stats> out;
    for (const WindowRecord& r : *records_) {
      if (!machine.empty() && r.machine_id != machine) continue;
      if (scored_only && !std::isfinite(r.score)) continue;
      out[r.window_start_ns / interval * interval].Add(value(r));
    }
    return out;
  }

  static std::map<std::int64_t, double> Means(const std::map<std::int64_t, Stats>& stats) {
    std::map<std::int64_t, double> out;
    for (const auto& [t, s] : stats) out[t] = s.mean();
    return out;
  }

  static std::map<std::int64_t, double> Doubles(const std::map<std::int64_t, json>& column) {
    std::map<std::int64_t, double> out;
    for (const auto& [t, v] : column) out[t] = Num(v);
    return out;
  }

  static std::int64_t Anomalous(const std::string& machine) {
    std::int64_t n = 0;
    for (const WindowRecord& r : *records_) n += r.machine_id == machine && r.anomaly;
    return n;
  }
  static std::int64_t Scored(const std::string& machine) {
    std::int64_t n = 0;
    for (const WindowRecord& r : *records_) n += r.machine_id == machine && std::isfinite(r.score);
    return n;
  }

  static mh::testing::InfluxdbService* influx_;
  static std::int64_t start_;
  static std::vector<WindowRecord>* records_;
};

mh::testing::InfluxdbService* GrafanaInfluxqlTest::influx_ = nullptr;
std::int64_t GrafanaInfluxqlTest::start_ = 0;
std::vector<WindowRecord>* GrafanaInfluxqlTest::records_ = nullptr;

TEST_F(GrafanaInfluxqlTest, EveryQueryOfEveryDashboardRunsAndAnswersData) {
  int queries = 0;
  for (const std::string name : {"fleet", "machine"}) {
    const json dashboard = LoadDashboard("influxql", name);
    SCOPED_TRACE(name);
    for (const json& variable : dashboard["templating"]["list"]) {
      EXPECT_EQ(variable["datasource"]["uid"], kInfluxqlUid);
      EXPECT_FALSE(Run(variable["query"].get<std::string>(), Range("10m")).empty());
      ++queries;
    }
    for (const json& panel : Panels(dashboard)) {
      if (panel["type"] == "row") continue;
      EXPECT_EQ(panel["datasource"]["uid"], kInfluxqlUid) << panel["title"];
      ASSERT_FALSE(panel["targets"].empty()) << panel["title"];
      for (const json& target : panel["targets"]) {
        EXPECT_EQ(target["datasource"]["uid"], kInfluxqlUid) << panel["title"];
        EXPECT_TRUE(target["rawQuery"].get<bool>()) << panel["title"];
        const std::vector<Series> series = Run(target["query"].get<std::string>(), Range("10m"));
        EXPECT_FALSE(series.empty()) << panel["title"] << " " << target["refId"] << ": no data";
        ++queries;
      }
    }
  }
  EXPECT_EQ(queries, 21);
  // The template variables answer the machines and the feature fields.
  const json machine = LoadDashboard("influxql", "machine");
  std::vector<std::string> machines;
  for (const json& row : RunOne(machine["templating"]["list"][0]["query"], Range("1m")).values) {
    machines.push_back(row[1].get<std::string>());
  }
  EXPECT_EQ(machines, kMachines);
  std::set<std::string> fields;
  for (const json& row : RunOne(machine["templating"]["list"][1]["query"], Range("1m")).values) {
    fields.insert(row[0].get<std::string>());
  }
  EXPECT_EQ(fields, std::set<std::string>(kNames->begin(), kNames->end()));
}

TEST_F(GrafanaInfluxqlTest, FleetOverviewAnswersWhatWasWritten) {
  const json fleet = LoadDashboard("influxql", "fleet");
  const GrafanaRange range = Range("10m");

  // The table: latest score and threshold of every machine, the margin, the
  // anomalous and scored windows (whose ratio the table computes).
  const std::string title = "Machines, worst first";
  std::map<std::string, Series> latest =
      RunByTag(PanelQuery(fleet, title, "A"), range, "sensor_id");
  std::map<std::string, Series> anomalous =
      RunByTag(PanelQuery(fleet, title, "B"), range, "sensor_id");
  std::map<std::string, Series> windows =
      RunByTag(PanelQuery(fleet, title, "C"), range, "sensor_id");
  ASSERT_EQ(latest.size(), kMachines.size());
  for (const std::string& m : kMachines) {
    SCOPED_TRACE(m);
    const WindowRecord* last = nullptr;
    for (const WindowRecord& r : *records_) {
      if (r.machine_id == m && std::isfinite(r.score)) last = &r;
    }
    ASSERT_NE(last, nullptr);
    ASSERT_EQ(latest[m].values.size(), 1u);
    EXPECT_THAT(latest[m].columns, ElementsAre("time", "score", "threshold", "margin"));
    EXPECT_EQ(Num(latest[m].values[0][1]), last->score);
    EXPECT_EQ(Num(latest[m].values[0][2]), last->threshold);
    EXPECT_EQ(Num(latest[m].values[0][3]), last->score - last->threshold);
    EXPECT_EQ(Num(latest[m].values[0][3]) < 0, kLatestAnomalous.count(m) == 1);
    ASSERT_EQ(anomalous[m].values.size(), 1u);
    ASSERT_EQ(windows[m].values.size(), 1u);
    EXPECT_EQ(Int(anomalous[m].values[0][1]), Anomalous(m));
    EXPECT_EQ(Int(windows[m].values[0][1]), Scored(m));
    EXPECT_EQ(Int(windows[m].values[0][1]), kWindows - (kWindows + 3) / 7);
    // The merge transformation joins the three on time and machine: the same time.
    EXPECT_EQ(latest[m].values[0][0], anomalous[m].values[0][0]);
    EXPECT_EQ(latest[m].values[0][0], windows[m].values[0][0]);
  }
  const json table = FindPanel(fleet, title);
  EXPECT_EQ(table["options"]["sortBy"], json::parse(R"([{"displayName":"margin","desc":false}])"));
  EXPECT_EQ(table["transformations"][1]["options"]["binary"],
            json::parse(R"({"left":"anomalous","operator":"/","right":"windows"})"));

  // Stats: machines reporting, in alarm, the fleet's anomaly rate.
  EXPECT_EQ(Int(FirstValue(RunOne(PanelQuery(fleet, "Machines reporting", "A"), range))), 4);
  EXPECT_EQ(Int(FirstValue(RunOne(PanelQuery(fleet, "Machines in alarm", "A"), range))),
            static_cast<std::int64_t>(kLatestAnomalous.size()));
  std::int64_t all_anomalous = 0;
  std::int64_t all_scored = 0;
  for (const std::string& m : kMachines) {
    all_anomalous += Anomalous(m);
    all_scored += Scored(m);
  }
  EXPECT_EQ(Int(FirstValue(RunOne(PanelQuery(fleet, "Fleet anomaly rate", "A"), range))),
            all_anomalous);
  EXPECT_EQ(Int(FirstValue(RunOne(PanelQuery(fleet, "Fleet anomaly rate", "B"), range))),
            all_scored);

  // Time series per machine, 10-minute intervals.
  std::map<std::string, Series> score =
      RunByTag(PanelQuery(fleet, "Anomaly score per machine", "A"), range, "sensor_id");
  std::map<std::string, Series> margin =
      RunByTag(PanelQuery(fleet, "Margin to threshold per machine", "A"), range, "sensor_id");
  std::map<std::string, Series> counts =
      RunByTag(PanelQuery(fleet, "Anomalous windows per interval", "A"), range, "sensor_id");
  ASSERT_EQ(score.size(), kMachines.size());
  ASSERT_EQ(margin.size(), kMachines.size());
  ASSERT_EQ(counts.size(), kMachines.size());
  for (const std::string& m : kMachines) {
    SCOPED_TRACE(m);
    const auto score_stats =
        PerInterval(m, 10 * kMinute, true, [](const WindowRecord& r) { return r.score; });
    const auto threshold_stats =
        PerInterval(m, 10 * kMinute, true, [](const WindowRecord& r) { return r.threshold; });
    ASSERT_EQ(score_stats.size(), 12u);
    EXPECT_EQ(Doubles(score[m].Column("mean")), Means(score_stats));
    std::map<std::int64_t, double> expected_margin;
    std::map<std::int64_t, double> expected_count;
    for (const auto& [t, s] : score_stats) {
      expected_margin[t] = s.mean() - threshold_stats.at(t).mean();
    }
    for (const auto& [t, s] : PerInterval(
             m, 10 * kMinute, false, [](const WindowRecord& r) { return r.anomaly ? 1.0 : 0.0; })) {
      expected_count[t] = s.sum;
    }
    EXPECT_EQ(Doubles(margin[m].Column("mean_mean")), expected_margin);
    EXPECT_EQ(Doubles(counts[m].Column("count")), expected_count);
  }
}

TEST_F(GrafanaInfluxqlTest, MachineDrillDownAnswersWhatWasWritten) {
  const json machine = LoadDashboard("influxql", "machine");
  const GrafanaRange range = Range("10m");  // $machine = m3, $feature = rms_ax, kurtosis_ax
  const std::string m = "m3";

  const Series score = RunOne(PanelQuery(machine, "Anomaly score and threshold", "A"), range);
  EXPECT_THAT(score.columns, ElementsAre("time", "score", "min score", "threshold"));
  const auto scores =
      PerInterval(m, 10 * kMinute, true, [](const WindowRecord& r) { return r.score; });
  ASSERT_EQ(scores.size(), 12u);
  EXPECT_EQ(Doubles(score.Column("score")), Means(scores));
  std::map<std::int64_t, double> minima;
  for (const auto& [t, s] : scores) minima[t] = s.min;
  EXPECT_EQ(Doubles(score.Column("min score")), minima);
  for (const auto& [t, v] : Doubles(score.Column("threshold"))) EXPECT_EQ(v, -3.0 / 8) << t;

  std::map<std::int64_t, double> anomalous;
  for (const auto& [t, s] : PerInterval(
           m, 10 * kMinute, false, [](const WindowRecord& r) { return r.anomaly ? 1.0 : 0.0; })) {
    anomalous[t] = s.sum;
  }
  EXPECT_EQ(Doubles(RunOne(PanelQuery(machine, "Anomalous windows per interval", "A"), range)
                        .Column("anomalous")),
            anomalous);

  // Features: the chosen ones; RMS of the channels (not rms_ac_*); velocity.
  auto feature_means = [&](std::size_t index) {
    return Means(PerInterval(m, 10 * kMinute, false,
                             [index](const WindowRecord& r) { return r.features[index]; }));
  };
  const Series selected = RunOne(PanelQuery(machine, "Selected features", "A"), range);
  EXPECT_THAT(selected.columns, ElementsAre("time", "mean_kurtosis_ax", "mean_rms_ax"));
  EXPECT_EQ(Doubles(selected.Column("mean_rms_ax")), feature_means(0));
  EXPECT_EQ(Doubles(selected.Column("mean_kurtosis_ax")), feature_means(3));
  const Series rms = RunOne(PanelQuery(machine, "RMS acceleration per channel", "A"), range);
  EXPECT_THAT(rms.columns, ElementsAre("time", "mean_rms_ax", "mean_rms_ay"));
  EXPECT_EQ(Doubles(rms.Column("mean_rms_ay")), feature_means(1));
  const Series velocity = RunOne(PanelQuery(machine, "Velocity RMS (ISO 20816), mm/s", "A"), range);
  EXPECT_THAT(velocity.columns, ElementsAre("time", "mean_velocity_rms_ax"));
  EXPECT_EQ(Doubles(velocity.Column("mean_velocity_rms_ax")), feature_means(4));

  // Long ranges: the rollup tiers give the raw windows' min, mean (weighted
  // by count_score) and max and the anomalous count, here per 30 minutes.
  const GrafanaRange wide = Range("30m");
  for (const std::string tier : {"1m", "1h"}) {
    SCOPED_TRACE(tier);
    const std::string title = "Anomaly score, " + tier + " rollups (min, count-weighted mean, max)";
    const Series rollup = RunOne(PanelQuery(machine, title, "A"), wide);
    EXPECT_THAT(rollup.columns, ElementsAre("time", "min", "mean", "max"));
    // The 1-hour tier has one point per hour, so its 30-minute intervals are
    // the hours: compare with the raw windows of the same width.
    const std::int64_t width = tier == "1m" ? 30 * kMinute : kHour;
    const auto expected =
        PerInterval(m, width, true, [](const WindowRecord& r) { return r.score; });
    const auto mins = Doubles(rollup.Column("min"));
    const auto means = Doubles(rollup.Column("mean"));
    const auto maxs = Doubles(rollup.Column("max"));
    ASSERT_EQ(means.size(), expected.size());
    for (const auto& [t, s] : expected) {
      ASSERT_TRUE(means.count(t)) << t;
      EXPECT_EQ(mins.at(t), s.min) << t;
      EXPECT_EQ(maxs.at(t), s.max) << t;
      // mean_score * count_score rounds: equal to a few ulps.
      EXPECT_NEAR(means.at(t), s.mean(), 1e-12) << t;
    }
    std::map<std::int64_t, double> expected_anomalous;
    for (const auto& [t, s] : PerInterval(
             m, width, false, [](const WindowRecord& r) { return r.anomaly ? 1.0 : 0.0; })) {
      expected_anomalous[t] = s.sum;
    }
    std::map<std::int64_t, double> got =
        Doubles(RunOne(PanelQuery(machine, title, "B"), wide).Column("anomalous"));
    // fill(0) answers every interval of the range; keep those with data.
    for (auto it = got.begin(); it != got.end();) {
      it = expected_anomalous.count(it->first) ? std::next(it) : got.erase(it);
    }
    EXPECT_EQ(got, expected_anomalous);
  }
}

// ---------------------------------------------------------------------------
// Static checks: files, provisioning, Flux.

std::vector<std::string> Titles(const json& dashboard) {
  std::vector<std::string> titles;
  for (const json& p : Panels(dashboard)) titles.push_back(p.value("title", ""));
  return titles;
}

TEST(GrafanaDashboardsTest, EveryFileParsesAndEachInfluxqlDashboardHasAFluxTwin) {
  std::set<std::string> files;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(GrafanaDir() + "/dashboards")) {
    if (entry.path().extension() == ".json") {
      files.insert(std::filesystem::relative(entry.path(), GrafanaDir() + "/dashboards"));
    }
  }
  EXPECT_EQ(files,
            (std::set<std::string>{"flux/fleet.json", "flux/machine.json", "influxql/fleet.json",
                                   "influxql/machine.json", "prometheus/machine-health.json"}));
  std::set<std::string> uids;
  for (const std::string name : {"fleet", "machine"}) {
    const json influxql = LoadDashboard("influxql", name);
    const json flux = LoadDashboard("flux", name);
    EXPECT_EQ(Titles(influxql), Titles(flux)) << name;
    std::vector<std::string> ql_variables, flux_variables;
    for (const json& v : influxql["templating"]["list"]) ql_variables.push_back(v["name"]);
    for (const json& v : flux["templating"]["list"]) flux_variables.push_back(v["name"]);
    EXPECT_EQ(ql_variables, flux_variables);
    if (name == "machine") {
      EXPECT_THAT(ql_variables, ElementsAre("machine", "feature"));
    }
    for (const json* d : {&influxql, &flux}) {
      uids.insert((*d)["uid"].get<std::string>());
      std::set<int> ids;
      for (const json& p : Panels(*d)) {
        EXPECT_TRUE(ids.insert(p["id"].get<int>()).second) << (*d)["uid"] << " duplicate id";
        EXPECT_LE(p["gridPos"]["x"].get<int>() + p["gridPos"]["w"].get<int>(), 24);
      }
    }
  }
  uids.insert(LoadDashboard("prometheus", "machine-health")["uid"].get<std::string>());
  EXPECT_EQ(uids.size(), 5u);
}

// The Prometheus dashboard's structure; its queries are run against a real
// Prometheus by tests/integration/grafana_prometheus_test.cc.
TEST(GrafanaDashboardsTest, PrometheusDashboardNamesItsDataSourceEverywhere) {
  const json d = LoadDashboard("prometheus", "machine-health");
  EXPECT_EQ(d["uid"], "mh-prometheus");
  std::set<int> ids;
  int targets = 0;
  for (const json& p : Panels(d)) {
    EXPECT_TRUE(ids.insert(p["id"].get<int>()).second) << "duplicate id " << p["id"];
    EXPECT_LE(p["gridPos"]["x"].get<int>() + p["gridPos"]["w"].get<int>(), 24) << p["title"];
    if (p["type"] == "row") continue;
    EXPECT_EQ(p["datasource"]["uid"], kPrometheusUid) << p["title"];
    EXPECT_FALSE(p.value("description", "").empty()) << p["title"];
    for (const json& t : p["targets"]) {
      EXPECT_EQ(t["datasource"]["uid"], kPrometheusUid) << p["title"];
      EXPECT_FALSE(t.value("expr", "").empty()) << p["title"];
      ++targets;
    }
  }
  EXPECT_GE(targets, 30);
  for (const json& v : d["templating"]["list"]) {
    EXPECT_EQ(v["datasource"]["uid"], kPrometheusUid) << v["name"];
  }
}

TEST(GrafanaDashboardsTest, ProvisioningNamesTheDashboardsDataSourcesFromTheEnvironment) {
  const std::string datasources =
      ReadText(GrafanaDir() + "/provisioning/datasources/machine-health.yaml");
  ASSERT_FALSE(datasources.empty());
  EXPECT_THAT(datasources, HasSubstr(std::string("uid: ") + kInfluxqlUid));
  EXPECT_THAT(datasources, HasSubstr(std::string("uid: ") + kFluxUid));
  EXPECT_THAT(datasources, HasSubstr("version: Flux"));
  EXPECT_THAT(datasources, HasSubstr(std::string("uid: ") + kPrometheusUid));
  EXPECT_THAT(datasources, HasSubstr("type: prometheus"));
  // Every address, name and secret is an environment variable.
  const std::regex kSetting(R"((url|user|dbName|organization|defaultBucket|password|token): (.*))");
  int settings = 0;
  for (auto it = std::sregex_iterator(datasources.begin(), datasources.end(), kSetting);
       it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(std::regex_match((*it)[2].str(), std::regex(R"(\$\{[A-Z0-9_]+\})")))
        << (*it)[0].str();
    ++settings;
  }
  EXPECT_EQ(settings, 9);
  const std::string providers =
      ReadText(GrafanaDir() + "/provisioning/dashboards/machine-health.yaml");
  EXPECT_THAT(providers, HasSubstr("path: /var/lib/grafana/dashboards/machine-health/influxql"));
  EXPECT_THAT(providers, HasSubstr("path: /var/lib/grafana/dashboards/machine-health/flux"));
  EXPECT_THAT(providers, HasSubstr("path: /var/lib/grafana/dashboards/machine-health/prometheus"));
}

// Every string `pattern` (one group) captures in `text`.
std::vector<std::string> Captures(const std::string& text, const std::string& pattern) {
  std::vector<std::string> out;
  const std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

TEST(GrafanaDashboardsTest, FluxQueriesUseTheSeedNamesAndGrafanasVariables) {
  // Bucket -> measurement -> fields the sink (or the rollup tasks) write.
  const std::map<std::string, std::map<std::string, std::set<std::string>>> schema = {
      {"iiot_rms",
       {{"anomaly_score", {"score", "score_samples", "anomaly", "threshold"}},
        {"signal_features", {}}}},  // any feature field
      {"iiot_rms_1m",
       {{"anomaly_score_1m", {"min_score", "mean_score", "max_score", "count_score"}}}},
      {"iiot_rms_1h",
       {{"anomaly_score_1h", {"min_score", "mean_score", "max_score", "count_score"}}}}};
  const std::map<std::string, std::string> tag_of = {{"anomaly_score", "sensor_id"},
                                                     {"signal_features", "device_id"},
                                                     {"anomaly_score_1m", "sensor_id"},
                                                     {"anomaly_score_1h", "sensor_id"}};
  int queries = 0;
  for (const std::string name : {"fleet", "machine"}) {
    const json dashboard = LoadDashboard("flux", name);
    std::vector<std::pair<std::string, std::string>> all;  // (what, query)
    for (const json& v : dashboard["templating"]["list"]) {
      EXPECT_EQ(v["datasource"]["uid"], kFluxUid);
      all.emplace_back("variable " + v["name"].get<std::string>(), v["query"]);
    }
    for (const json& p : Panels(dashboard)) {
      if (p["type"] == "row") continue;
      EXPECT_EQ(p["datasource"]["uid"], kFluxUid) << p["title"];
      for (const json& t : p["targets"]) {
        EXPECT_EQ(t["datasource"]["uid"], kFluxUid) << p["title"];
        all.emplace_back(p["title"].get<std::string>() + " " + t["refId"].get<std::string>(),
                         t["query"]);
      }
    }
    for (const auto& [what, flux] : all) {
      SCOPED_TRACE(name + ": " + what + "\n" + flux);
      ++queries;
      const bool variable = what.rfind("variable ", 0) == 0;
      const std::vector<std::string> buckets = Captures(flux, R"re(bucket: "([^"]+)")re");
      ASSERT_EQ(buckets.size(), 1u);
      ASSERT_TRUE(schema.count(buckets[0])) << buckets[0];
      const auto& measurements = schema.at(buckets[0]);
      std::vector<std::string> used = Captures(flux, R"re(r\._measurement == "([^"]+)")re");
      const std::vector<std::string> named = Captures(flux, R"re(measurement: "([^"]+)")re");
      used.insert(used.end(), named.begin(), named.end());
      ASSERT_EQ(used.size(), 1u);
      ASSERT_TRUE(measurements.count(used[0])) << used[0] << " is not in " << buckets[0];
      const std::set<std::string>& fields = measurements.at(used[0]);
      for (const std::string& field : Captures(flux, R"re(r\._field == "([^"]+)")re")) {
        EXPECT_TRUE(fields.count(field)) << field << " is not a field of " << used[0];
      }
      // Machine filters use the measurement's tag and the machine variable.
      for (const std::string& tag : Captures(flux, R"re(r\.(sensor_id|device_id) ==)re")) {
        EXPECT_EQ(tag, tag_of.at(used[0]));
      }
      if (!variable) {
        EXPECT_THAT(flux, HasSubstr("|> range(start: v.timeRangeStart, stop: v.timeRangeStop)"));
        for (const std::string& every : Captures(flux, R"(aggregateWindow\(every: ([^,]+),)")) {
          EXPECT_EQ(every, "v.windowPeriod");
        }
        if (name == "machine") {
          EXPECT_THAT(flux, HasSubstr("r." + tag_of.at(used[0]) + " == \"${machine}\""));
        }
      }
      // Only Grafana's variables of this dashboard.
      for (const std::string& v : Captures(flux, R"(\$\{([^}]*)\})")) {
        EXPECT_TRUE(name == "machine" && (v == "machine" || v == "feature:json")) << v;
      }
      for (const auto& [open, close] : {std::pair{'(', ')'}, {'{', '}'}, {'[', ']'}}) {
        EXPECT_EQ(std::count(flux.begin(), flux.end(), open),
                  std::count(flux.begin(), flux.end(), close));
      }
    }
  }
  EXPECT_EQ(queries, 17);
  // The fleet's score panel is the prototype's panel over the dashboard's range.
  EXPECT_EQ(PanelQuery(LoadDashboard("flux", "fleet"), "Anomaly score per machine", "A"),
            "from(bucket: \"iiot_rms\")\n"
            "  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n"
            "  |> filter(fn: (r) => r._measurement == \"anomaly_score\")\n"
            "  |> filter(fn: (r) => r._field == \"score\")\n"
            "  |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)");
}

}  // namespace
}  // namespace mh::sink::influxdb
