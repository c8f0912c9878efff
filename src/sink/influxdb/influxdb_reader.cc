#include "sink/influxdb/influxdb_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "net/http_get.h"

namespace mh::sink::influxdb {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxAnswerBytes = 256u << 20;  // a larger answer is an error
// InfluxDB's time range is about 1677..2262; the API's open ends are clamped
// into it.
constexpr std::int64_t kMinTime = -(std::int64_t{1} << 62);
constexpr std::int64_t kMaxTime = std::int64_t{1} << 62;

// An InfluxQL identifier: "name" with " and \ escaped.
std::string Ident(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// An InfluxQL string literal: 'text' with ' and \ escaped.
std::string Literal(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

double Number(const json& v) {
  if (v.is_number()) return v.get<double>();
  return NAN;  // null
}

std::int64_t Time(const json& v) { return v.is_number_integer() ? v.get<std::int64_t>() : 0; }

// The rows of one statement's result: per series its tags and value rows.
struct SeriesRows {
  std::map<std::string, std::string> tags;
  std::vector<std::string> columns;
  json values = json::array();
};

}  // namespace

struct InfluxdbReader::Impl {
  InfluxdbConfig config;
  std::string base;  // BaseUrl(), for messages
  net::HttpGetOptions http;

  // Runs `statements` (';'-separated) and returns each statement's series.
  Result<std::vector<std::vector<SeriesRows>>> Query(const std::string& statements) {
    const std::string& db = config.api == ApiVersion::kV2 ? config.bucket : config.database;
    std::string url =
        base + "/query?epoch=ns&db=" + PercentEncode(db) + "&q=" + PercentEncode(statements);
    if (!config.retention_policy.empty()) url += "&rp=" + PercentEncode(config.retention_policy);
    // net::HttpGet names the URL without its query (the statements) in errors.
    auto answer = net::HttpGet(url, http);
    if (!answer.ok()) {
      if (answer.status().IsUnavailable()) {
        return Status::Unavailable("influxdb: " + answer.status().message());
      }
      return Status(answer.status()).WithContext("influxdb");
    }
    const int http_status = answer->status;
    json doc = json::parse(answer->body, nullptr, /*allow_exceptions=*/false);
    std::string server_error;
    if (doc.is_object() && doc.contains("error") && doc["error"].is_string()) {
      server_error = doc["error"].get<std::string>();
    }
    if (http_status == 401 || http_status == 403) {
      return Status::InvalidArgument("influxdb: " + base + ": not authorised (HTTP " +
                                     std::to_string(http_status) + ")");
    }
    if (http_status >= 500 || http_status == 429 || http_status == 408) {
      return Status::Unavailable("influxdb: " + base + ": server error (HTTP " +
                                 std::to_string(http_status) + ")" +
                                 (server_error.empty() ? "" : ": " + server_error));
    }
    if (http_status != 200) {
      return Status::InvalidArgument("influxdb: " + base + ": query refused (HTTP " +
                                     std::to_string(http_status) + ")" +
                                     (server_error.empty() ? "" : ": " + server_error));
    }
    if (!doc.is_object() || !doc.contains("results") || !doc["results"].is_array()) {
      return Status::Corruption("influxdb: " + base + ": not an InfluxQL answer");
    }
    std::vector<std::vector<SeriesRows>> out;
    for (const json& r : doc["results"]) {
      if (r.contains("error") && r["error"].is_string()) {
        return Status::InvalidArgument("influxdb: " + base + ": " + r["error"].get<std::string>());
      }
      std::vector<SeriesRows> rows;
      if (r.contains("series") && r["series"].is_array()) {
        for (const json& s : r["series"]) {
          SeriesRows sr;
          if (s.contains("tags") && s["tags"].is_object()) {
            for (auto it = s["tags"].begin(); it != s["tags"].end(); ++it) {
              if (it.value().is_string()) sr.tags[it.key()] = it.value().get<std::string>();
            }
          }
          if (s.contains("columns") && s["columns"].is_array()) {
            for (const json& c : s["columns"]) {
              sr.columns.push_back(c.is_string() ? c.get<std::string>() : "");
            }
          }
          if (s.contains("values") && s["values"].is_array()) sr.values = s["values"];
          rows.push_back(std::move(sr));
        }
      }
      out.push_back(std::move(rows));
    }
    return out;
  }

  // NotFound unless `machine` is a sensor_id of anomaly_score or a device_id
  // of signal_features: two metadata queries (the index), not the
  // aggregates over every point that Machines() runs.
  Status CheckKnown(const std::string& machine) {
    MH_ASSIGN_OR_RETURN(auto results,
                        Query("SHOW TAG VALUES FROM \"anomaly_score\" WITH KEY = \"sensor_id\" "
                              "WHERE \"sensor_id\" = " +
                              Literal(machine) +
                              "; SHOW TAG VALUES FROM \"signal_features\" WITH KEY = "
                              "\"device_id\" WHERE \"device_id\" = " +
                              Literal(machine)));
    for (const auto& statement : results) {
      for (const SeriesRows& s : statement) {
        if (!s.values.empty()) return Status::OK();
      }
    }
    return Status::NotFound("unknown machine '" + machine + "'");
  }

  // The field keys of signal_features.
  Result<std::vector<std::string>> FeatureFields() {
    MH_ASSIGN_OR_RETURN(auto results, Query("SHOW FIELD KEYS FROM \"signal_features\""));
    std::set<std::string> names;
    for (const SeriesRows& s : results.front()) {
      for (const json& row : s.values) {
        if (row.is_array() && !row.empty() && row[0].is_string()) {
          names.insert(row[0].get<std::string>());
        }
      }
    }
    return std::vector<std::string>(names.begin(), names.end());
  }
};

InfluxdbReader::InfluxdbReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InfluxdbReader::~InfluxdbReader() = default;

Result<std::unique_ptr<InfluxdbReader>> InfluxdbReader::Open(const InfluxdbConfig& config) {
  if (config.host.empty()) return Status::InvalidArgument("influxdb: no host");
  if (config.api == ApiVersion::kV1 ? config.database.empty() : config.bucket.empty()) {
    return Status::InvalidArgument("influxdb: no database or bucket to read");
  }
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->base = config.BaseUrl();
  impl->http.timeout = config.timeout;
  impl->http.ca_file = config.ca_file;
  impl->http.max_body_bytes = kMaxAnswerBytes;
  impl->http.follow_redirects = false;
  impl->http.headers.emplace_back("Accept", "application/json");
  if (config.api == ApiVersion::kV2 && !config.secret.empty()) {
    impl->http.headers.emplace_back("Authorization", "Token " + config.secret);
  } else if (config.api == ApiVersion::kV1 && !config.user.empty()) {
    std::string basic;
    AppendBase64(config.user + ":" + config.secret, &basic);
    impl->http.headers.emplace_back("Authorization", "Basic " + basic);
  }
  return std::unique_ptr<InfluxdbReader>(new InfluxdbReader(std::move(impl)));
}

Result<std::vector<MachineSummary>> InfluxdbReader::Machines() {
  MH_ASSIGN_OR_RETURN(std::vector<std::string> fields, impl_->FeatureFields());
  std::string q =
      "SELECT last(\"score\"), \"threshold\", \"anomaly\" FROM \"anomaly_score\" GROUP BY "
      "\"sensor_id\"; SELECT count(\"score\") FROM \"anomaly_score\" GROUP BY \"sensor_id\"";
  if (!fields.empty()) {
    // (Two aggregates in one statement would give time 0.)
    q += "; SELECT last(" + Ident(fields.front()) +
         ") FROM \"signal_features\" GROUP BY \"device_id\"; SELECT count(" +
         Ident(fields.front()) + ") FROM \"signal_features\" GROUP BY \"device_id\"";
  }
  MH_ASSIGN_OR_RETURN(auto results, impl_->Query(q));
  std::map<std::string, MachineSummary> by_id;
  auto summary = [&by_id](const std::string& id) -> MachineSummary& {
    MachineSummary& m = by_id[id];
    if (m.id.empty()) {
      m.id = id;
      m.state = "learning";
      m.score = NAN;
      m.threshold = NAN;
    }
    return m;
  };
  for (const SeriesRows& s : results[0]) {
    auto tag = s.tags.find("sensor_id");
    if (tag == s.tags.end() || s.values.empty() || s.values[0].size() < 4) continue;
    const json& row = s.values[0];
    MachineSummary& m = summary(tag->second);
    m.updated_ns = Time(row[0]);
    m.score = Number(row[1]);
    m.threshold = Number(row[2]);
    m.state = row[3].is_boolean() && row[3].get<bool>() ? "anomalous" : "normal";
  }
  for (const SeriesRows& s : results[1]) {
    auto tag = s.tags.find("sensor_id");
    if (tag == s.tags.end() || s.values.empty() || s.values[0].size() < 2) continue;
    summary(tag->second).windows = static_cast<std::int64_t>(Number(s.values[0][1]));
  }
  // A machine still learning has feature points only.
  for (std::size_t k = 2; k < results.size(); ++k) {
    for (const SeriesRows& s : results[k]) {
      auto tag = s.tags.find("device_id");
      if (tag == s.tags.end() || s.values.empty() || s.values[0].size() < 2) continue;
      MachineSummary& m = summary(tag->second);
      if (m.state != "learning") continue;
      if (k == 2) {
        m.updated_ns = Time(s.values[0][0]);
      } else {
        m.windows = static_cast<std::int64_t>(Number(s.values[0][1]));
      }
    }
  }
  std::vector<MachineSummary> out;
  for (auto& [id, m] : by_id) out.push_back(std::move(m));
  return out;
}

Result<MachineSummary> InfluxdbReader::Machine(const std::string& id) {
  MH_ASSIGN_OR_RETURN(std::vector<MachineSummary> all, Machines());
  for (MachineSummary& m : all) {
    if (m.id == id) return std::move(m);
  }
  return Status::NotFound("unknown machine '" + id + "'");
}

Result<Series> InfluxdbReader::GetSeries(const std::string& machine, const std::string& metric,
                                         std::int64_t from_ns, std::int64_t to_ns,
                                         std::size_t max_points) {
  if (max_points == 0) return Status::InvalidArgument("max_points must be >= 1");
  if (from_ns > to_ns) return Status::InvalidArgument("from is after to");
  if (metric == "rms" || metric == "state_score" || metric == "baseline_version") {
    return Status::InvalidArgument("metric '" + metric +
                                   "' is not stored in InfluxDB (only score and the features)");
  }
  MH_RETURN_IF_ERROR(impl_->CheckKnown(machine));
  const bool score = metric == "score";
  if (!score) {
    MH_ASSIGN_OR_RETURN(std::vector<std::string> fields, impl_->FeatureFields());
    if (!std::binary_search(fields.begin(), fields.end(), metric)) {
      return Status::InvalidArgument("unknown metric '" + metric + "'");
    }
  }
  const std::string from_where = std::string(" FROM ") +
                                 (score ? "\"anomaly_score\" WHERE \"sensor_id\" = "
                                        : "\"signal_features\" WHERE \"device_id\" = ") +
                                 Literal(machine);
  const std::string field = Ident(metric);
  const std::int64_t lo = std::clamp(from_ns, kMinTime, kMaxTime);
  const std::int64_t hi = std::clamp(to_ns, kMinTime, kMaxTime);
  const std::string range =
      " AND time >= " + std::to_string(lo) + " AND time < " + std::to_string(hi);
  MH_ASSIGN_OR_RETURN(
      auto counted,
      impl_->Query("SELECT count(" + field + ")" + from_where + range + "; SELECT first(" + field +
                   ")" + from_where + range + "; SELECT last(" + field + ")" + from_where + range));
  std::int64_t n = 0, first = 0, last = 0;
  if (!counted[0].empty() && !counted[0][0].values.empty()) {
    n = static_cast<std::int64_t>(Number(counted[0][0].values[0][1]));
  }
  if (!counted[1].empty() && !counted[1][0].values.empty())
    first = Time(counted[1][0].values[0][0]);
  if (!counted[2].empty() && !counted[2][0].values.empty()) last = Time(counted[2][0].values[0][0]);
  Series out;
  if (n == 0) return out;
  auto add = [&out](std::int64_t t, double v) {
    if (!out.t_ns.empty() && t <= out.t_ns.back()) return;
    out.t_ns.push_back(t);
    out.v.push_back(v);
  };
  if (static_cast<std::size_t>(n) <= max_points) {
    MH_ASSIGN_OR_RETURN(auto raw, impl_->Query("SELECT " + field + from_where + range));
    for (const SeriesRows& s : raw[0]) {
      for (const json& row : s.values) add(Time(row[0]), Number(row[1]));
    }
    return out;
  }
  if (max_points < 4) {
    add(last, NAN);
    MH_ASSIGN_OR_RETURN(auto one, impl_->Query("SELECT last(" + field + ")" + from_where + range));
    out.v.back() = Number(one[0][0].values[0][1]);
    return out;
  }
  // Buckets of `width` µs aligned to the first point (offset); the stretch
  // may cut one more bucket at the end, hence max_points / 2 - 1 of them.
  const std::int64_t groups = static_cast<std::int64_t>(max_points / 2 - 1);
  const std::int64_t span_us = (last - first) / 1000 + 1;
  const std::int64_t width_us = std::max<std::int64_t>(1, (span_us + groups - 1) / groups);
  const std::int64_t first_us = first >= 0 ? first / 1000 : -((-first + 999) / 1000);
  const std::int64_t offset_us = ((first_us % width_us) + width_us) % width_us;
  MH_ASSIGN_OR_RETURN(auto grouped,
                      impl_->Query("SELECT min(" + field + "), max(" + field + ")" + from_where +
                                   range + " GROUP BY time(" + std::to_string(width_us) + "u, " +
                                   std::to_string(offset_us) + "u) fill(none)"));
  for (const SeriesRows& s : grouped[0]) {
    for (const json& row : s.values) {
      if (row.size() < 3) continue;
      const std::int64_t start = std::max(Time(row[0]), from_ns);
      add(start, Number(row[1]));
      add(start + std::max<std::int64_t>(1, width_us * 1000 / 2), Number(row[2]));
    }
  }
  return out;
}

Result<std::vector<WindowPoint>> InfluxdbReader::WindowsAfter(const std::string& machine,
                                                              std::int64_t after_ns,
                                                              std::size_t limit) {
  MH_ASSIGN_OR_RETURN(auto results,
                      impl_->Query("SELECT \"score\", \"anomaly\" FROM \"anomaly_score\" WHERE "
                                   "\"sensor_id\" = " +
                                   Literal(machine) + " AND time > " +
                                   std::to_string(std::clamp(after_ns, kMinTime, kMaxTime)) +
                                   " ORDER BY time ASC LIMIT " + std::to_string(limit)));
  std::vector<WindowPoint> out;
  for (const SeriesRows& s : results[0]) {
    for (const json& row : s.values) {
      if (row.size() < 3) continue;
      WindowPoint p;
      p.t_ns = Time(row[0]);
      p.score = Number(row[1]);
      p.state_score = NAN;
      p.rms = NAN;
      p.state = row[2].is_boolean() && row[2].get<bool>() ? "anomalous" : "normal";
      out.push_back(std::move(p));
    }
  }
  return out;
}

Result<std::vector<std::string>> InfluxdbReader::FeatureNames(const std::string& machine) {
  MH_RETURN_IF_ERROR(impl_->CheckKnown(machine));
  return impl_->FeatureFields();
}

Result<std::vector<std::pair<std::string, double>>> InfluxdbReader::LatestFeatures(
    const std::string& machine, const std::string& prefix) {
  MH_ASSIGN_OR_RETURN(std::vector<std::string> fields, impl_->FeatureFields());
  std::vector<std::pair<std::string, double>> out;
  std::vector<std::string> names;
  for (const std::string& f : fields) {
    if (f.size() > prefix.size() + 1 && f.compare(0, prefix.size(), prefix) == 0 &&
        f[prefix.size()] == '_') {
      names.push_back(f);
    }
  }
  if (names.empty()) return out;
  // One statement per field: several selectors in one would not be of one point.
  std::string q;
  for (const std::string& f : names) {
    q += (q.empty() ? "" : "; ") + std::string("SELECT last(") + Ident(f) +
         ") FROM \"signal_features\" WHERE \"device_id\" = " + Literal(machine);
  }
  MH_ASSIGN_OR_RETURN(auto results, impl_->Query(q));
  for (std::size_t i = 0; i < names.size() && i < results.size(); ++i) {
    if (results[i].empty() || results[i][0].values.empty()) continue;
    const json& row = results[i][0].values[0];
    if (row.size() >= 2 && row[1].is_number()) out.emplace_back(names[i], row[1].get<double>());
  }
  return out;
}

Result<std::vector<AlarmRecord>> InfluxdbReader::Alarms(const AlarmFilter&) {
  return std::vector<AlarmRecord>{};
}

Result<AlarmRecord> InfluxdbReader::Alarm(const std::string& alarm_id) {
  return Status::NotFound("unknown alarm '" + alarm_id +
                          "' (InfluxDB keeps no alarms: they are in the embedded database)");
}

Result<std::vector<BaselineInfo>> InfluxdbReader::Baselines(const std::string&) {
  return std::vector<BaselineInfo>{};
}

Result<StoredBaseline> InfluxdbReader::Baseline(const std::string& machine_id, std::int64_t) {
  return Status::NotFound("no baseline of machine '" + machine_id +
                          "' (InfluxDB keeps no baselines: they are in the embedded database)");
}

Result<std::vector<SnapshotInfo>> InfluxdbReader::Snapshots(const std::string&, std::int64_t,
                                                            std::int64_t, std::size_t) {
  return std::vector<SnapshotInfo>{};
}

Result<StoredSnapshot> InfluxdbReader::Snapshot(std::int64_t id) {
  return Status::NotFound("unknown snapshot " + std::to_string(id) +
                          " (InfluxDB keeps no snapshots: they are in the embedded database)");
}

}  // namespace mh::sink::influxdb
