#include "sink/sqlite/sqlite_sink.h"

#include <cmath>
#include <map>
#include <string>
#include <utility>

#include <sqlite3.h>

#include "sink/sqlite/internal/snapshot_sql.h"
#include "sink/sqlite/internal/sqlite_util.h"
#include "sink/sqlite/internal/store_upkeep.h"
#include "sink/sqlite/internal/windows_v4.h"

namespace mh::sink {
namespace {

using internal::Db;
using internal::SqliteError;
using internal::Stmt;
using internal::StmtResetter;

using internal::BindReal;
using internal::BindText;

class SqliteSink final : public Sink {
 public:
  SqliteSink(SqliteOptions options, Db db)
      : path_(options.path), options_(std::move(options)), db_(std::move(db)) {}
  ~SqliteSink() override { (void)Close(); }

  Status Prepare() {
    MH_ASSIGN_OR_RETURN(upkeep_, internal::StoreUpkeep::Create(db_, path_, options_));
    MH_ASSIGN_OR_RETURN(begin_, Stmt::Prepare(db_, "BEGIN IMMEDIATE"));
    MH_ASSIGN_OR_RETURN(commit_, Stmt::Prepare(db_, "COMMIT"));
    MH_ASSIGN_OR_RETURN(rollback_, Stmt::Prepare(db_, "ROLLBACK"));
    MH_ASSIGN_OR_RETURN(insert_window_,
                        Stmt::Prepare(db_,
                                      "INSERT OR IGNORE INTO windows(machine, t_ns, score, "
                                      "score_samples, anomaly, state, state_score, rms, "
                                      "baseline_version, feature_set, features, model) "
                                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                                      "?12)"));
    MH_ASSIGN_OR_RETURN(update_window_,
                        Stmt::Prepare(db_,
                                      "UPDATE windows SET score = ?3, score_samples = ?4, "
                                      "anomaly = ?5, state = ?6, state_score = ?7, rms = ?8, "
                                      "baseline_version = ?9, feature_set = ?10, features = ?11, "
                                      "model = ?12 WHERE machine = ?1 AND t_ns = ?2"));
    MH_ASSIGN_OR_RETURN(insert_model_,
                        Stmt::Prepare(db_,
                                      "INSERT INTO models(sha256, source, loaded_ns) "
                                      "VALUES(?1, ?2, ?3) ON CONFLICT(sha256) DO NOTHING"));
    MH_ASSIGN_OR_RETURN(find_model_, Stmt::Prepare(db_, "SELECT id FROM models WHERE sha256 = ?1"));
    MH_ASSIGN_OR_RETURN(
        upsert_machine_,
        Stmt::Prepare(db_,
                      "INSERT INTO machines(id, state, state_score, threshold, updated_ns, "
                      "windows) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
                      "ON CONFLICT(id) DO UPDATE SET "
                      "windows = machines.windows + excluded.windows, "
                      "state = iif(excluded.updated_ns >= machines.updated_ns, excluded.state, "
                      "machines.state), "
                      "state_score = iif(excluded.updated_ns >= machines.updated_ns, "
                      "excluded.state_score, machines.state_score), "
                      "threshold = iif(excluded.updated_ns >= machines.updated_ns, "
                      "excluded.threshold, machines.threshold), "
                      "updated_ns = max(machines.updated_ns, excluded.updated_ns)"));
    MH_RETURN_IF_ERROR(snapshots_.Prepare(db_, path_));
    return Status::OK();
  }

  Status Write(std::span<const WindowRecord> batch) override {
    if (closed_) return Status::Internal(path_ + ": write after close");
    if (batch.empty()) return Status::OK();
    MH_RETURN_IF_ERROR(Validate(batch));
    MH_RETURN_IF_ERROR(Step(begin_.get(), "begin transaction"));
    Status status = WriteInTransaction(batch);
    // The rollups of the batch, in its transaction (internal/rollup.h).
    if (status.ok()) status = upkeep_->BeforeCommit();
    if (status.ok()) status = Step(commit_.get(), "commit");
    if (!status.ok()) {
      // Roll back whatever part of the batch was written; the batch is all
      // or nothing. ROLLBACK fails harmlessly if no transaction is open.
      // Keys created in the rolled-back transaction are gone with it.
      (void)Step(rollback_.get(), "rollback");
      keys_.Forget();
      models_.clear();
      upkeep_->AfterRollback();
      return status;
    }
    // Retention between batches, in small transactions of its own
    // (internal/retention.h); a failure there is logged, the batch is stored.
    upkeep_->AfterCommit(batch.size());
    return status;
  }

  Status Close() override {
    if (closed_) return Status::OK();
    closed_ = true;
    begin_ = Stmt();
    commit_ = Stmt();
    rollback_ = Stmt();
    insert_window_ = Stmt();
    update_window_ = Stmt();
    upsert_machine_ = Stmt();
    insert_model_ = Stmt();
    find_model_ = Stmt();
    keys_ = internal::WindowKeys();
    snapshots_.Reset();
    upkeep_.reset();
    int rc = sqlite3_close(db_.get());
    if (rc != SQLITE_OK) return SqliteError(db_.get(), rc, path_ + ": close");
    (void)db_.Release();
    return Status::OK();
  }

 private:
  struct Latest {
    const WindowRecord* record = nullptr;
    std::int64_t new_windows = 0;
  };

  Status Validate(std::span<const WindowRecord> batch) const {
    for (const WindowRecord& r : batch) {
      std::string where =
          path_ + ": machine '" + r.machine_id + "' window " + std::to_string(r.window_start_ns);
      if (r.machine_id.empty()) return Status::InvalidArgument(where + ": empty machine id");
      std::size_t names = r.feature_names ? r.feature_names->size() : 0;
      if (names != r.features.size()) {
        return Status::InvalidArgument(where + ": " + std::to_string(r.features.size()) +
                                       " feature values for " + std::to_string(names) + " names");
      }
      for (std::size_t i = 0; i < r.features.size(); ++i) {
        if (!std::isfinite(r.features[i])) {
          return Status::InvalidArgument(where + ": feature '" + (*r.feature_names)[i] +
                                         "' is not finite");
        }
      }
    }
    return Status::OK();
  }

  Status Step(sqlite3_stmt* stmt, const char* what) {
    StmtResetter reset(stmt);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
      return SqliteError(db_.get(), rc, path_ + ": " + what);
    }
    return Status::OK();
  }

  Status WriteInTransaction(std::span<const WindowRecord> batch) {
    std::map<std::string_view, Latest> latest;
    for (const WindowRecord& r : batch) {
      MH_ASSIGN_OR_RETURN(const std::int64_t machine, keys_.Machine(db_, path_, r.machine_id));
      MH_ASSIGN_OR_RETURN(const std::int64_t set, keys_.FeatureSet(db_, path_, r.feature_names));
      MH_ASSIGN_OR_RETURN(const std::int64_t model, ModelId(r));
      MH_ASSIGN_OR_RETURN(bool inserted, WriteWindow(r, machine, set, model));
      // ROLLUP HOOK: record r was written with machine key `machine`, feature
      // set `set`, replaced = !inserted (an existing (machine, t_ns) row was
      // overwritten). The rollup accumulator is called here, inside the write
      // transaction, so rollups commit atomically with the windows.
      MH_RETURN_IF_ERROR(OnWindowWritten(r, machine, set, /*replaced=*/!inserted));
      for (const auto& snap : r.snapshots) {
        if (snap != nullptr) MH_RETURN_IF_ERROR(snapshots_.Write(r.machine_id, *snap));
      }
      Latest& l = latest[r.machine_id];
      if (l.record == nullptr || r.window_start_ns >= l.record->window_start_ns) l.record = &r;
      if (inserted) ++l.new_windows;
    }
    sqlite3_stmt* m = upsert_machine_.get();
    for (const auto& [id, l] : latest) {
      const WindowRecord& r = *l.record;
      BindText(m, 1, r.machine_id);
      sqlite3_bind_text(m, 2, MachineStateName(r.state), -1, SQLITE_STATIC);
      BindReal(m, 3, r.state_score);
      BindReal(m, 4, r.threshold);
      sqlite3_bind_int64(m, 5, r.window_start_ns);
      sqlite3_bind_int64(m, 6, l.new_windows);
      MH_RETURN_IF_ERROR(Step(m, "upsert into machines"));
    }
    return Status::OK();
  }

  // The rollup hook (see WriteInTransaction): blob_ holds r's stored features.
  // An error fails (and rolls back) the whole batch.
  Status OnWindowWritten(const WindowRecord& r, std::int64_t machine, std::int64_t feature_set,
                         bool replaced) {
    upkeep_->Written(r, machine, feature_set, blob_, replaced);
    return Status::OK();
  }

  // The models.id of the record's model file (added on first sight, cached
  // by its SHA-256); 0 for a record without one.
  Result<std::int64_t> ModelId(const WindowRecord& r) {
    if (r.model == nullptr || r.model->sha256.empty()) return 0;
    auto it = models_.find(r.model->sha256);
    if (it == models_.end()) {
      BindText(insert_model_.get(), 1, r.model->sha256);
      BindText(insert_model_.get(), 2, r.model->source);
      sqlite3_bind_int64(insert_model_.get(), 3, r.model->loaded_ns);
      MH_RETURN_IF_ERROR(Step(insert_model_.get(), "insert into models"));
      sqlite3_stmt* f = find_model_.get();
      StmtResetter reset(f);
      BindText(f, 1, r.model->sha256);
      const int rc = sqlite3_step(f);
      if (rc != SQLITE_ROW) return SqliteError(db_.get(), rc, path_ + ": reading models");
      it = models_.emplace(r.model->sha256, sqlite3_column_int64(f, 0)).first;
    }
    return it->second;
  }

  // Inserts the windows row; replaces an existing one for the same window.
  // Returns whether the row is new.
  Result<bool> WriteWindow(const WindowRecord& r, std::int64_t machine, std::int64_t set,
                           std::int64_t model) {
    blob_.clear();
    internal::EncodeFeatures(r.features, &blob_);
    auto bind = [&](sqlite3_stmt* s) {
      sqlite3_bind_int64(s, 1, machine);
      sqlite3_bind_int64(s, 2, r.window_start_ns);
      BindReal(s, 3, r.score);
      BindReal(s, 4, r.score_samples);
      if (std::isnan(r.score)) {
        sqlite3_bind_null(s, 5);  // no verdict while learning
      } else {
        sqlite3_bind_int(s, 5, r.anomaly ? 1 : 0);
      }
      sqlite3_bind_int(s, 6, static_cast<int>(r.state));
      BindReal(s, 7, r.state_score);
      BindReal(s, 8, r.rms);
      sqlite3_bind_int64(s, 9, r.baseline_version);
      sqlite3_bind_int64(s, 10, set);
      sqlite3_bind_blob(s, 11, blob_.data(), static_cast<int>(blob_.size()), SQLITE_STATIC);
      if (model == 0) {
        sqlite3_bind_null(s, 12);
      } else {
        sqlite3_bind_int64(s, 12, model);
      }
    };
    bind(insert_window_.get());
    MH_RETURN_IF_ERROR(Step(insert_window_.get(), "insert into windows"));
    if (sqlite3_changes(db_.get()) == 1) return true;
    bind(update_window_.get());
    MH_RETURN_IF_ERROR(Step(update_window_.get(), "update windows"));
    return false;
  }

  std::string path_;
  SqliteOptions options_;
  Db db_;
  bool closed_ = false;
  Stmt begin_, commit_, rollback_;
  Stmt insert_window_, update_window_, upsert_machine_, insert_model_, find_model_;
  // models.id by SHA-256 (forgotten after a rollback: rows created in it
  // are gone).
  std::map<std::string, std::int64_t> models_;
  internal::WindowKeys keys_;                      // machine keys and feature-set ids
  std::string blob_;                               // the feature blob of the record being written
  internal::SnapshotWriter snapshots_;             // waveform snapshots of the records
  std::unique_ptr<internal::StoreUpkeep> upkeep_;  // rollups and retention
};

}  // namespace

Result<std::unique_ptr<Sink>> OpenSqliteSink(const SqliteOptions& options) {
  MH_ASSIGN_OR_RETURN(Db db, internal::OpenWritable(options.path));
  auto sink = std::make_unique<SqliteSink>(options, std::move(db));
  MH_RETURN_IF_ERROR(sink->Prepare());
  return std::unique_ptr<Sink>(std::move(sink));
}

}  // namespace mh::sink
