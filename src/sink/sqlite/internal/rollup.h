// Rollups (schema version 4): per machine, feature set and bucket of 1 minute
// and 1 hour, the count, score/rms min/sum/max and every feature's min/max
// (float32) and sum (float64) of the stored windows, written incrementally in
// the sink's write transaction (docs/database.md, "Rollups").
// Only src/sink/sqlite/ may include this header.
//
// Thread safety: a RollupWriter is used by one thread at a time (the sink's).
#ifndef MH_SINK_SQLITE_INTERNAL_ROLLUP_H_
#define MH_SINK_SQLITE_INTERNAL_ROLLUP_H_

#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "core/result.h"
#include "sink/sqlite/internal/sqlite_util.h"

namespace mh::sink::internal {

// Bucket widths of the two tiers, seconds (rollups.tier).
inline constexpr std::int64_t kRollupTiers[] = {60, 3600};
inline constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

// The `rollups` table (part of the version 4 schema; CREATE statements only).
extern const char* const kRollupTable;

// The bucket start of `t_ns` in a tier of `tier_s` seconds (floored, also for
// times before the epoch).
std::int64_t BucketStart(std::int64_t t_ns, std::int64_t tier_s);

// One window as the rollups see it. NaN score: learning (not counted in
// score_count); NaN rms: unknown.
struct RollupWindow {
  std::int64_t machine = 0;      // machine_keys.key
  std::int64_t feature_set = 0;  // feature_sets.id
  std::int64_t t_ns = 0;
  double score = 0;
  bool anomaly = false;
  double rms = 0;
  std::span<const float> features;  // the stored (float32) values
};

// The aggregate of one rollup row.
struct RollupAggregate {
  std::int64_t count = 0;
  std::int64_t score_count = 0;
  double score_min = 0, score_max = 0, score_sum = 0;
  std::int64_t anomalies = 0;
  std::int64_t rms_count = 0;  // not stored: rms_min is NULL when 0
  double rms_min = 0, rms_max = 0, rms_sum = 0;
  std::vector<float> feat_min, feat_max;
  std::vector<double> feat_sum;

  // Adds one window (exact).
  void Add(const RollupWindow& w);
  // Adds another aggregate of the same feature set (exact).
  void Merge(const RollupAggregate& other);
};

// The `rollup_features` view: tier, machine_id, bucket_ns, name, min, mean,
// max, count per feature of each rollup row (CREATE VIEW statement; the
// blobs decoded by DecodeIeeeSql, sqlite_util.h).
std::string RollupFeaturesView();

// Float32 little-endian blob <-> floats (the windows.features encoding).
std::string EncodeFloat32(std::span<const float> values);
bool DecodeFloat32(const void* data, std::size_t bytes, std::vector<float>* out);

// The columns of a rollups row that hold its aggregate, in the order
// ReadAggregate reads them.
inline constexpr const char* kRollupAggregateColumns =
    "count, score_count, score_min, score_max, score_sum, anomalies, rms_min, rms_max, rms_sum, "
    "feat_min, feat_max, feat_sum";

// Reads the aggregate of a rollups row from the kRollupAggregateColumns of
// `s` starting at column `col`. rms_count is not stored: it reads as 1 when
// rms_min is not NULL, 0 otherwise. False if the three feature blobs do not
// hold the same number of values.
bool ReadAggregate(sqlite3_stmt* s, int col, RollupAggregate* a);

// Accumulates the windows written in one transaction and writes the touched
// rollup rows at Flush (one read-modify-write per (tier, machine, bucket,
// feature set)).
class RollupWriter {
 public:
  // Prepares the statements on `db` (which must hold the version 4 tables).
  static Result<RollupWriter> Create(Db& db, std::string path);

  RollupWriter(RollupWriter&&) = default;
  RollupWriter& operator=(RollupWriter&&) = default;

  // A window stored in the current transaction. `replaced`: it replaced a
  // stored window of the same (machine, t_ns): its buckets are recomputed
  // from the stored windows at Flush (a min or max cannot be undone), except
  // in a bucket part of which was already pruned (before
  // meta.windows_pruned_before): there the new values only widen min/max.
  void Add(const RollupWindow& window, bool replaced);

  // Writes every touched bucket, in the caller's transaction, and forgets
  // them. IOError/Unavailable if SQLite fails (the caller rolls back).
  Status Flush();

  // Forgets what was added (after a rollback).
  void Discard();

 private:
  RollupWriter() = default;
  using Key = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>;  // tier,
                                                                                   // machine,
                                                                                   // bucket, set
  using BucketKey = std::tuple<std::int64_t, std::int64_t, std::int64_t>;  // tier, machine, bucket
  Status MergeInto(const Key& key, const RollupAggregate& delta);
  Status Recompute(const BucketKey& key);
  Status Write(const Key& key, const RollupAggregate& a);
  Result<std::int64_t> PrunedBefore();

  std::string path_;
  sqlite3* db_ = nullptr;
  Stmt select_, upsert_, delete_bucket_, scan_windows_, pruned_before_;
  std::map<Key, RollupAggregate> pending_;
  std::set<BucketKey> recompute_;
  std::map<Key, RollupAggregate> widen_;  // replaced windows in partly pruned buckets
};

}  // namespace mh::sink::internal

#endif  // MH_SINK_SQLITE_INTERNAL_ROLLUP_H_
