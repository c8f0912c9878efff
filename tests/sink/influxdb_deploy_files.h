// Test-only helpers for the files of deploy/ that the InfluxDB tests apply to
// a real influxd (influxdb_rollup_test.cc, influxdb_grafana_test.cc): reading
// a file whole, the continuous queries of deploy/influxdb's .iql file and
// their backfill (a CQ itself only covers the present), POSTing statements,
// and min/max/mean of expected values.
#ifndef MH_TESTS_SINK_INFLUXDB_DEPLOY_FILES_H_
#define MH_TESTS_SINK_INFLUXDB_DEPLOY_FILES_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "testing/influxdb_service.h"

namespace mh::sink::influxdb::deploy_files {

// The whole file; "" when it cannot be read (the caller asserts non-empty).
inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct ContinuousQuery {
  std::string name;
  std::string select;  // the body between BEGIN and END
};

// The CREATE CONTINUOUS QUERY statements of an InfluxQL file (database "iiot").
inline std::vector<ContinuousQuery> ContinuousQueries(const std::string& text) {
  static const std::regex kCq(
      R"re(CREATE CONTINUOUS QUERY "([^"]+)" ON "iiot"[^\n]*BEGIN([\s\S]*?)\nEND;)re");
  std::vector<ContinuousQuery> queries;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kCq); it != std::sregex_iterator();
       ++it) {
    queries.push_back({(*it)[1].str(), std::string(TrimSpace((*it)[2].str()))});
  }
  return queries;
}

// The backfill of a CQ body: the same SELECT ... INTO limited to [from, to)
// (nanoseconds); the body unchanged when it has no GROUP BY time(...).
inline std::string Backfill(const std::string& select, std::int64_t from, std::int64_t to) {
  const std::string range =
      "time >= " + std::to_string(from) + " AND time < " + std::to_string(to) + " ";
  const std::size_t group = select.find("GROUP BY time(");
  if (group == std::string::npos) return select;
  const std::size_t where = select.find("WHERE ");
  if (where != std::string::npos && where < group) {
    return select.substr(0, where + 6) + range + "AND " + select.substr(where + 6);
  }
  return select.substr(0, group) + "WHERE " + range + select.substr(group);
}

// POST /query (statements that write, several at once): the answer's results,
// each checked for an error (test failures, not a status).
inline nlohmann::json PostQuery(const mh::testing::InfluxdbService& influx,
                                const std::string& database, const std::string& influxql) {
  std::string url = influx.url() + "/query";
  if (!database.empty()) url += "?db=" + PercentEncode(database);
  Result<mh::testing::HttpAnswer> answer = mh::testing::CurlPost(
      url, "q=" + PercentEncode(influxql), {"Content-Type: application/x-www-form-urlencoded"});
  EXPECT_TRUE(answer.ok()) << answer.status().ToString();
  if (!answer.ok()) return nlohmann::json::array();
  EXPECT_EQ(answer->status, 200) << answer->body;
  nlohmann::json results = nlohmann::json::parse(answer->body)["results"];
  for (const nlohmann::json& r : results) EXPECT_FALSE(r.contains("error")) << r.dump();
  return results;
}

// Minimum, maximum, sum and count of values added one by one.
struct Stats {
  double min = INFINITY;
  double max = -INFINITY;
  double sum = 0;
  std::int64_t count = 0;
  void Add(double v) {
    min = std::min(min, v);
    max = std::max(max, v);
    sum += v;
    ++count;
  }
  double mean() const { return sum / static_cast<double>(count); }
};

}  // namespace mh::sink::influxdb::deploy_files

#endif  // MH_TESTS_SINK_INFLUXDB_DEPLOY_FILES_H_
