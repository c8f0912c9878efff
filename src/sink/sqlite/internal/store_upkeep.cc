#include "sink/sqlite/internal/store_upkeep.h"

#include <cmath>
#include <utility>

#include "log/log.h"
#include "sink/sqlite/internal/snapshot_sql.h"

namespace mh::sink::internal {

RetentionPolicy PolicyOf(const SqliteOptions& options) {
  RetentionPolicy p;
  p.window_retention_ns = options.window_retention.count();
  p.rollup_1m_retention_ns = options.rollup_1m_retention.count();
  p.rollup_1h_retention_ns = options.rollup_1h_retention.count();
  p.max_db_size = options.max_db_size;
  p.rows_per_transaction = options.prune_rows_per_transaction;
  return p;
}

Result<std::unique_ptr<StoreUpkeep>> StoreUpkeep::Create(Db& db, const std::string& path,
                                                         const SqliteOptions& options) {
  MH_ASSIGN_OR_RETURN(RollupWriter rollups, RollupWriter::Create(db, path));
  MH_ASSIGN_OR_RETURN(Pruner pruner, Pruner::Create(db, path, PolicyOf(options)));
  auto upkeep =
      std::unique_ptr<StoreUpkeep>(new StoreUpkeep(path, std::move(rollups), std::move(pruner)));
  upkeep->db_ = &db;
  upkeep->snapshot_retention_ = options.snapshot_retention;
  return upkeep;
}

void StoreUpkeep::Written(const WindowRecord& r, std::int64_t machine_key, std::int64_t feature_set,
                          std::string_view features, bool replaced) {
  // The rollups see exactly the stored float32 values.
  (void)DecodeFloat32(features.data(), features.size(), &floats_);
  RollupWindow w;
  w.machine = machine_key;
  w.feature_set = feature_set;
  w.t_ns = r.window_start_ns;
  w.score = r.score;
  w.anomaly = !std::isnan(r.score) && r.anomaly;
  w.rms = r.rms;
  w.features = floats_;
  rollups_.Add(w, replaced);
}

Status StoreUpkeep::BeforeCommit() { return rollups_.Flush(); }

void StoreUpkeep::AfterRollback() { rollups_.Discard(); }

void StoreUpkeep::AfterCommit(std::size_t records) {
  const std::int64_t allowance =
      4 * static_cast<std::int64_t>(records) + pruner_.policy().rows_per_transaction;
  // Snapshots are few (one per machine every few minutes): their retention
  // is checked every kSnapshotPruneEvery commits.
  if (++commits_ % kSnapshotPruneEvery == 1) {
    auto pruned =
        PruneSnapshots(*db_, path_, snapshot_retention_, pruner_.policy().rows_per_transaction);
    if (!pruned.ok())
      log::Warn("sqlite", pruned.status().WithContext("snapshot retention").message());
  }
  auto stats = pruner_.Run(allowance);
  if (!stats.ok()) {
    if (!warned_) log::Warn("sqlite", stats.status().WithContext("retention").message());
    warned_ = true;
    return;
  }
  warned_ = false;
}

}  // namespace mh::sink::internal
