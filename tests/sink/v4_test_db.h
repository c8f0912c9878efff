// Test-only: a version 4 database (the sink's schema) written window by
// window as the SQLite sink does (one transaction per batch, rollups flushed
// in it), with machine keys and feature sets chosen by the test, for the
// rollup and retention tests.
#ifndef MH_TESTS_SINK_V4_TEST_DB_H_
#define MH_TESTS_SINK_V4_TEST_DB_H_

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "sink/sqlite/internal/rollup.h"
#include "sink/sqlite/internal/sqlite_util.h"

namespace mh::sink::internal {

struct TestWindow {
  std::int64_t machine = 1, set = 1, t_ns = 0;
  double score = 0, rms = 0;
  bool anomaly = false;
  std::vector<float> features;
};

class V4TestDb {
 public:
  // Opens (creating) the file; WAL journal, synchronous=NORMAL, as the sink.
  Status Open(const std::string& path, bool create) {
    path_ = path;
    sqlite3* raw = nullptr;
    if (sqlite3_open(path.c_str(), &raw) != SQLITE_OK) return Status::IOError(path + ": open");
    db_ = Db(raw);
    sqlite3_busy_timeout(raw, kBusyTimeoutMs);
    MH_RETURN_IF_ERROR(db_.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", path));
    if (create) {
      // The sink's own schema (version 4, with rollups and alarms).
      MH_RETURN_IF_ERROR(db_.Exec("BEGIN", path));
      MH_RETURN_IF_ERROR(CreateSchema(db_, path));
      MH_RETURN_IF_ERROR(db_.Exec("COMMIT", path));
    }
    MH_ASSIGN_OR_RETURN(RollupWriter w, RollupWriter::Create(db_, path));
    writer_.emplace(std::move(w));
    MH_ASSIGN_OR_RETURN(
        exists_, Stmt::Prepare(db_, "SELECT 1 FROM windows WHERE machine = ?1 AND t_ns = ?2"));
    MH_ASSIGN_OR_RETURN(put_, Stmt::Prepare(db_,
                                            "INSERT OR REPLACE INTO windows(machine, t_ns, score, "
                                            "anomaly, state, rms, feature_set, features) "
                                            "VALUES(?1, ?2, ?3, ?4, 1, ?5, ?6, ?7)"));
    MH_ASSIGN_OR_RETURN(key_, Stmt::Prepare(db_,
                                            "INSERT OR IGNORE INTO machine_keys(key, id) "
                                            "VALUES(?1, 'm' || ?1)"));
    return Status::OK();
  }

  // Stores a batch in one transaction with its rollups. `before_flush` (if
  // set) runs inside the transaction just before the rollups are written.
  Status WriteBatch(const std::vector<TestWindow>& batch, void (*before_flush)() = nullptr) {
    MH_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE", path_));
    Status s = WriteInTransaction(batch, before_flush);
    if (s.ok()) s = db_.Exec("COMMIT", path_);
    if (!s.ok()) {
      writer_->Discard();
      (void)db_.Exec("ROLLBACK", path_);
    }
    return s;
  }

  Db& db() { return db_; }

 private:
  Status WriteInTransaction(const std::vector<TestWindow>& batch, void (*before_flush)()) {
    for (const TestWindow& w : batch) {
      sqlite3_stmt* k = key_.get();
      sqlite3_bind_int64(k, 1, w.machine);
      if (sqlite3_step(k) != SQLITE_DONE) return Status::IOError("machine_keys");
      sqlite3_reset(k);
      sqlite3_stmt* e = exists_.get();
      sqlite3_bind_int64(e, 1, w.machine);
      sqlite3_bind_int64(e, 2, w.t_ns);
      const bool replaced = sqlite3_step(e) == SQLITE_ROW;
      sqlite3_reset(e);
      sqlite3_stmt* p = put_.get();
      sqlite3_bind_int64(p, 1, w.machine);
      sqlite3_bind_int64(p, 2, w.t_ns);
      BindReal(p, 3, w.score);
      if (std::isnan(w.score)) {
        sqlite3_bind_null(p, 4);
      } else {
        sqlite3_bind_int(p, 4, w.anomaly);
      }
      BindReal(p, 5, w.rms);
      sqlite3_bind_int64(p, 6, w.set);
      std::string blob = EncodeFloat32(w.features);
      sqlite3_bind_blob(p, 7, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
      int rc = sqlite3_step(p);
      sqlite3_reset(p);
      if (rc != SQLITE_DONE) return SqliteError(db_.get(), rc, path_ + ": windows");
      writer_->Add(RollupWindow{w.machine, w.set, w.t_ns, w.score, w.anomaly, w.rms, w.features},
                   replaced);
    }
    if (before_flush != nullptr) before_flush();
    return writer_->Flush();
  }

  std::string path_;
  Db db_;
  std::optional<RollupWriter> writer_;
  Stmt exists_, put_, key_;
};

}  // namespace mh::sink::internal

#endif  // MH_TESTS_SINK_V4_TEST_DB_H_
