// InfluxdbReader: the dashboard's StoreReader (sink/store_reader.h) over the
// InfluxDB schema this project and the prototype write (docs/influxdb.md):
// `anomaly_score` (tag sensor_id; fields score, threshold, anomaly) and
// `signal_features` (tag device_id; a field per feature). It asks with
// InfluxQL through the 1.x `/query` endpoint (InfluxDB 2.x answers it too
// for a bucket with a DBRP mapping: `influx v1 dbrp create`), results in
// epoch nanoseconds.
//
// What it reads:
//   Machines   every sensor_id of anomaly_score and device_id of
//              signal_features; state "anomalous" when the latest score point
//              has anomaly = true, "normal" after a score, "learning" with
//              features only; score and threshold of the latest score point;
//              windows = the score points (features only: the feature points)
//   GetSeries  "score" and every field of signal_features; at most
//              max_points points as stored, else the minimum and the maximum
//              of each of max_points / 2 - 1 equal stretches of time between
//              the first and the latest point (InfluxDB's min() and max() per
//              GROUP BY time(), fill(none); the minimum drawn at the
//              stretch's start, the maximum half-way); "rms", "state_score"
//              and "baseline_version" are not stored there (InvalidArgument)
//   WindowsAfter the score points after a time (state from anomaly)
//   FeatureNames the field keys of signal_features (of every machine)
//   LatestFeatures the latest value of each field `prefix`_*
//   Alarms, Baselines, Snapshots: none (only the embedded database keeps
//              them); Alarm, Baseline, Snapshot: NotFound
// Errors: Unavailable when the server cannot be reached or answers 5xx;
// InvalidArgument for 4xx (401/403: "not authorised"), naming the base URL,
// never a password or token.
//
// Thread safety: every method may be called from several threads at once
// (each request is its own net::HttpGet, the project's one GET client).
#ifndef MH_SINK_INFLUXDB_INFLUXDB_READER_H_
#define MH_SINK_INFLUXDB_INFLUXDB_READER_H_

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "sink/influxdb/influxdb_config.h"
#include "sink/store_reader.h"

namespace mh::sink::influxdb {

class InfluxdbReader final : public StoreReader {
 public:
  // Prepares the connection (nothing is sent yet). InvalidArgument for a
  // configuration without host or database/bucket.
  static Result<std::unique_ptr<InfluxdbReader>> Open(const InfluxdbConfig& config);
  ~InfluxdbReader() override;

  Result<std::vector<MachineSummary>> Machines() override;
  Result<MachineSummary> Machine(const std::string& id) override;
  Result<Series> GetSeries(const std::string& machine, const std::string& metric,
                           std::int64_t from_ns, std::int64_t to_ns,
                           std::size_t max_points) override;
  Result<std::vector<WindowPoint>> WindowsAfter(const std::string& machine, std::int64_t after_ns,
                                                std::size_t limit) override;
  Result<std::vector<std::string>> FeatureNames(const std::string& machine) override;
  Result<std::vector<std::pair<std::string, double>>> LatestFeatures(
      const std::string& machine, const std::string& prefix) override;
  Result<std::vector<AlarmRecord>> Alarms(const AlarmFilter& filter) override;
  Result<AlarmRecord> Alarm(const std::string& alarm_id) override;
  Result<std::vector<BaselineInfo>> Baselines(const std::string& machine_id = "") override;
  Result<StoredBaseline> Baseline(const std::string& machine_id, std::int64_t version = 0) override;
  Result<std::vector<SnapshotInfo>> Snapshots(const std::string& machine_id, std::int64_t from_ns,
                                              std::int64_t to_ns,
                                              std::size_t limit = 1000) override;
  Result<StoredSnapshot> Snapshot(std::int64_t id) override;

 private:
  struct Impl;
  explicit InfluxdbReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::sink::influxdb

#endif  // MH_SINK_INFLUXDB_INFLUXDB_READER_H_
