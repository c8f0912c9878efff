// What the SQLite sink does beside storing windows (schema version 4): the
// rollups of each batch, written in its transaction, and retention pruning
// after its commit (rollup.h, retention.h). Only src/sink/sqlite/ may include
// this header.
//
// Thread safety: used by the sink's thread only, on the sink's connection.
#ifndef MH_SINK_SQLITE_INTERNAL_STORE_UPKEEP_H_
#define MH_SINK_SQLITE_INTERNAL_STORE_UPKEEP_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "sink/sqlite/internal/retention.h"
#include "sink/sqlite/internal/rollup.h"
#include "sink/sqlite/snapshot_record.h"
#include "sink/sqlite/sqlite_sink.h"
#include "sink/window_record.h"

namespace mh::sink::internal {

// The pruning policy of the sink's options.
RetentionPolicy PolicyOf(const SqliteOptions& options);

class StoreUpkeep {
 public:
  static Result<std::unique_ptr<StoreUpkeep>> Create(Db& db, const std::string& path,
                                                     const SqliteOptions& options);

  // Record `r` was written in the current transaction as machine key
  // `machine_key`, feature set `feature_set`, with the stored feature blob
  // `features` (float32 LE, windows.features); `replaced`: it replaced a
  // stored row.
  void Written(const WindowRecord& r, std::int64_t machine_key, std::int64_t feature_set,
               std::string_view features, bool replaced);
  // Before COMMIT: writes the rollups. On error the caller rolls back.
  Status BeforeCommit();
  // After a ROLLBACK: forgets the batch.
  void AfterRollback();
  // After COMMIT of `records` records: prunes, at most about four times as
  // many rows plus one transaction's worth. A failure is logged (the batch
  // is stored; pruning is tried again after the next one).
  void AfterCommit(std::size_t records);

 private:
  StoreUpkeep(std::string path, RollupWriter rollups, Pruner pruner)
      : path_(std::move(path)), rollups_(std::move(rollups)), pruner_(std::move(pruner)) {}
  std::string path_;
  RollupWriter rollups_;
  Pruner pruner_;
  static constexpr std::uint64_t kSnapshotPruneEvery = 256;
  Db* db_ = nullptr;
  SnapshotRetention snapshot_retention_;
  std::uint64_t commits_ = 0;
  bool warned_ = false;
  std::vector<float> floats_;  // the blob of the record being added
};

}  // namespace mh::sink::internal

#endif  // MH_SINK_SQLITE_INTERNAL_STORE_UPKEEP_H_
