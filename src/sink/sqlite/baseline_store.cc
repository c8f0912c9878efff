#include "sink/sqlite/baseline_store.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include <sqlite3.h>

#include "core/time_util.h"
#include "iforest/model_io.h"
#include "sink/sqlite/internal/baseline_sql.h"
#include "sink/sqlite/internal/sqlite_util.h"
#include "sink/sqlite/internal/windows_v4.h"

namespace mh::sink {

using internal::BindReal;
using internal::BindText;
using internal::ColumnText;
using internal::Db;
using internal::SqliteError;
using internal::Stmt;
using internal::StmtResetter;

namespace {

Status ValidateBaseline(const score::Baseline& b) {
  const std::string where = "baseline of machine '" + b.machine_id + "'";
  if (b.machine_id.empty()) return Status::InvalidArgument("baseline: empty machine id");
  if (b.version < 0) return Status::InvalidArgument(where + ": negative version");
  if (b.model == nullptr) return Status::InvalidArgument(where + ": no model");
  const score::FeatureStats& st = b.stats;
  const std::size_t n = st.names.size();
  if (st.mean.size() != n || st.std.size() != n || st.min.size() != n || st.max.size() != n) {
    return Status::InvalidArgument(where + ": feature statistics of different lengths");
  }
  MH_RETURN_IF_ERROR(score::ValidateThresholdOptions(b.rule));
  return Status::OK();
}

}  // namespace

struct BaselineStore::Impl {
  std::string path;
  std::mutex mu;  // guards db and every statement
  Db db;
  Stmt begin, commit, rollback;
  Stmt max_version, stored_model, deactivate, activate, insert, bump, changes, current_seq;

  Status Prepare() {
    MH_ASSIGN_OR_RETURN(begin, Stmt::Prepare(db, "BEGIN IMMEDIATE"));
    MH_ASSIGN_OR_RETURN(commit, Stmt::Prepare(db, "COMMIT"));
    MH_ASSIGN_OR_RETURN(rollback, Stmt::Prepare(db, "ROLLBACK"));
    MH_ASSIGN_OR_RETURN(
        max_version,
        Stmt::Prepare(db, "SELECT coalesce(max(version), 0) FROM baselines WHERE machine_id = ?1"));
    MH_ASSIGN_OR_RETURN(stored_model,
                        Stmt::Prepare(db,
                                      "SELECT model FROM baselines WHERE machine_id = ?1 AND "
                                      "version = ?2"));
    MH_ASSIGN_OR_RETURN(deactivate,
                        Stmt::Prepare(db,
                                      "UPDATE baselines SET active = 0 WHERE machine_id = ?1 AND "
                                      "active = 1"));
    MH_ASSIGN_OR_RETURN(activate,
                        Stmt::Prepare(db,
                                      "UPDATE baselines SET active = 1 WHERE machine_id = ?1 AND "
                                      "version = ?2"));
    MH_ASSIGN_OR_RETURN(
        insert,
        Stmt::Prepare(db,
                      "INSERT INTO baselines(machine_id, version, created_ns, origin, model, "
                      "threshold, threshold_rule, threshold_q, threshold_margin, threshold_z, "
                      "trained_from_ns, trained_to_ns, rows, feature_names, feature_stats, "
                      "active) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                      "?14, ?15, 1)"));
    MH_ASSIGN_OR_RETURN(
        bump, Stmt::Prepare(db,
                            "INSERT INTO baseline_changes(machine_id, seq) VALUES(?1, (SELECT "
                            "coalesce(max(seq), 0) + 1 FROM baseline_changes)) "
                            "ON CONFLICT(machine_id) DO UPDATE SET seq = excluded.seq"));
    MH_ASSIGN_OR_RETURN(changes, Stmt::Prepare(db,
                                               "SELECT machine_id, seq FROM baseline_changes "
                                               "WHERE seq > ?1 ORDER BY seq"));
    MH_ASSIGN_OR_RETURN(current_seq,
                        Stmt::Prepare(db, "SELECT coalesce(max(seq), 0) FROM baseline_changes"));
    return Status::OK();
  }

  Status Step(sqlite3_stmt* s, const char* what) {
    StmtResetter reset(s);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqliteError(db.get(), rc, path + ": " + what);
    return Status::OK();
  }

  Result<std::int64_t> Int(sqlite3_stmt* s, const char* what) {
    StmtResetter reset(s);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) return SqliteError(db.get(), rc, path + ": " + what);
    return static_cast<std::int64_t>(sqlite3_column_int64(s, 0));
  }

  Result<std::int64_t> MaxVersion(const std::string& machine) {
    BindText(max_version.get(), 1, machine);
    return Int(max_version.get(), "reading baseline versions");
  }

  Status Bump(const std::string& machine) {
    BindText(bump.get(), 1, machine);
    return Step(bump.get(), "recording a baseline change");
  }

  Status Activate(const std::string& machine, std::int64_t version) {
    BindText(deactivate.get(), 1, machine);
    MH_RETURN_IF_ERROR(Step(deactivate.get(), "deactivating baselines"));
    BindText(activate.get(), 1, machine);
    sqlite3_bind_int64(activate.get(), 2, version);
    MH_RETURN_IF_ERROR(Step(activate.get(), "activating a baseline"));
    if (sqlite3_changes(db.get()) != 1) {
      return Status::NotFound("machine '" + machine + "' has no baseline version " +
                              std::to_string(version));
    }
    return Bump(machine);
  }

  // Runs `body` in one write transaction; rolls back if it fails.
  template <typename F>
  Status InTransaction(F&& body) {
    MH_RETURN_IF_ERROR(Step(begin.get(), "begin transaction"));
    Status s = body();
    if (s.ok()) s = Step(commit.get(), "commit");
    if (!s.ok()) (void)Step(rollback.get(), "rollback");
    return s;
  }

  Result<std::int64_t> Save(const score::Baseline& b, std::int64_t created_ns) {
    iforest::Model model = *b.model;
    Status valid = iforest::ValidateModel(model);
    if (!valid.ok()) {
      return Status::InvalidArgument("baseline of machine '" + b.machine_id +
                                     "': invalid model: " + valid.message());
    }
    const std::string bytes = iforest::SerializeModel(model);
    std::int64_t version = b.version;
    Status s = InTransaction([&]() -> Status {
      if (version == 0) {
        MH_ASSIGN_OR_RETURN(std::int64_t max, MaxVersion(b.machine_id));
        version = max + 1;
      } else {
        sqlite3_stmt* q = stored_model.get();
        StmtResetter reset(q);
        BindText(q, 1, b.machine_id);
        sqlite3_bind_int64(q, 2, version);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
          const void* blob = sqlite3_column_blob(q, 0);
          const auto n = static_cast<std::size_t>(sqlite3_column_bytes(q, 0));
          if (std::string_view(blob ? static_cast<const char*>(blob) : "", blob ? n : 0) != bytes) {
            return Status::InvalidArgument("machine '" + b.machine_id + "' already has a " +
                                           "different baseline version " + std::to_string(version));
          }
          return Activate(b.machine_id, version);
        }
        if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, path + ": reading baselines");
      }
      BindText(deactivate.get(), 1, b.machine_id);
      MH_RETURN_IF_ERROR(Step(deactivate.get(), "deactivating baselines"));
      const std::string names = internal::FeatureNamesToJson(model.feature_names);
      const std::string stats = internal::FeatureStatsToJson(b.stats);
      sqlite3_stmt* i = insert.get();
      BindText(i, 1, b.machine_id);
      sqlite3_bind_int64(i, 2, version);
      sqlite3_bind_int64(i, 3, created_ns != 0 ? created_ns : WallNowNs());
      BindText(i, 4, b.origin);
      sqlite3_bind_blob(i, 5, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
      BindReal(i, 6, b.threshold);
      sqlite3_bind_text(i, 7, score::ThresholdRuleName(b.rule.rule), -1, SQLITE_STATIC);
      sqlite3_bind_double(i, 8, b.rule.q);
      sqlite3_bind_double(i, 9, b.rule.margin);
      sqlite3_bind_double(i, 10, b.rule.z);
      sqlite3_bind_int64(i, 11, b.trained_from_ns);
      sqlite3_bind_int64(i, 12, b.trained_to_ns);
      sqlite3_bind_int64(i, 13, b.rows);
      BindText(i, 14, names);
      BindText(i, 15, stats);
      MH_RETURN_IF_ERROR(Step(i, "inserting a baseline"));
      return Bump(b.machine_id);
    });
    if (!s.ok()) return s;
    return version;
  }
};

BaselineStore::BaselineStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BaselineStore::~BaselineStore() = default;

Result<std::unique_ptr<BaselineStore>> BaselineStore::Open(const BaselineStoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->path = options.path;
  MH_ASSIGN_OR_RETURN(impl->db, internal::OpenWritable(options.path));
  MH_RETURN_IF_ERROR(impl->Prepare());
  return std::unique_ptr<BaselineStore>(new BaselineStore(std::move(impl)));
}

Result<std::int64_t> BaselineStore::Save(const score::Baseline& baseline, std::int64_t created_ns) {
  MH_RETURN_IF_ERROR(ValidateBaseline(baseline));
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->Save(baseline, created_ns);
}

Result<std::vector<std::shared_ptr<const score::Baseline>>> BaselineStore::LoadActive() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  MH_ASSIGN_OR_RETURN(std::vector<BaselineInfo> all,
                      internal::QueryBaselines(impl_->db, impl_->path, ""));
  std::vector<std::shared_ptr<const score::Baseline>> out;
  for (const BaselineInfo& i : all) {
    if (!i.active) continue;
    MH_ASSIGN_OR_RETURN(StoredBaseline b,
                        internal::QueryBaseline(impl_->db, impl_->path, i.machine_id, i.version));
    out.push_back(std::move(b.baseline));
  }
  return out;
}

Result<std::shared_ptr<const score::Baseline>> BaselineStore::LoadActive(
    const std::string& machine_id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto b = internal::QueryBaseline(impl_->db, impl_->path, machine_id, 0);
  if (b.status().IsNotFound()) return std::shared_ptr<const score::Baseline>();
  if (!b.ok()) return b.status();
  return std::move(b->baseline);
}

Result<std::vector<BaselineInfo>> BaselineStore::List(const std::string& machine_id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return internal::QueryBaselines(impl_->db, impl_->path, machine_id);
}

Result<StoredBaseline> BaselineStore::Get(const std::string& machine_id, std::int64_t version) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return internal::QueryBaseline(impl_->db, impl_->path, machine_id, version);
}

Result<std::int64_t> BaselineStore::NextVersion(const std::string& machine_id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  MH_ASSIGN_OR_RETURN(std::int64_t max, impl_->MaxVersion(machine_id));
  return max + 1;
}

Result<bool> BaselineStore::Reset(const std::string& machine_id) {
  if (machine_id.empty()) return Status::InvalidArgument("baseline reset: empty machine id");
  std::lock_guard<std::mutex> lock(impl_->mu);
  bool was_active = false;
  Status s = impl_->InTransaction([&]() -> Status {
    BindText(impl_->deactivate.get(), 1, machine_id);
    MH_RETURN_IF_ERROR(impl_->Step(impl_->deactivate.get(), "deactivating baselines"));
    was_active = sqlite3_changes(impl_->db.get()) > 0;
    return impl_->Bump(machine_id);
  });
  if (!s.ok()) return s;
  return was_active;
}

Status BaselineStore::Activate(const std::string& machine_id, std::int64_t version) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->InTransaction([&] { return impl_->Activate(machine_id, version); });
}

Result<std::vector<BaselineChange>> BaselineStore::ChangesSince(std::int64_t seq) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  sqlite3_stmt* s = impl_->changes.get();
  StmtResetter reset(s);
  sqlite3_bind_int64(s, 1, seq);
  std::vector<BaselineChange> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const unsigned char* id = sqlite3_column_text(s, 0);
    out.push_back({id ? reinterpret_cast<const char*>(id) : "", sqlite3_column_int64(s, 1)});
  }
  if (rc != SQLITE_DONE) {
    return SqliteError(impl_->db.get(), rc, impl_->path + ": reading baseline changes");
  }
  return out;
}

Result<std::int64_t> BaselineStore::CurrentSeq() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->Int(impl_->current_seq.get(), "reading baseline changes");
}

Result<StoredWindows> ReadStoredWindows(const std::string& path, const std::string& machine_id,
                                        const std::vector<std::string>& names, std::int64_t from_ns,
                                        std::int64_t to_ns, std::int64_t latest) {
  MH_ASSIGN_OR_RETURN(Db db, internal::OpenReadOnly(path));
  // One read transaction, so the windows and their feature sets agree.
  MH_RETURN_IF_ERROR(db.Exec("BEGIN", path + ": reading windows"));
  StoredWindows out;
  out.names = names;
  std::int64_t key = -1;
  {
    MH_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db, "SELECT key FROM machine_keys WHERE id = ?1"));
    BindText(q.get(), 1, machine_id);
    int rc = sqlite3_step(q.get());
    if (rc == SQLITE_DONE) return out;  // no window of this machine
    if (rc != SQLITE_ROW) return SqliteError(db.get(), rc, path + ": reading machine keys");
    key = sqlite3_column_int64(q.get(), 0);
  }
  if (latest > 0) {
    // The first window time of the latest `latest` windows in range.
    MH_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(db,
                                              "SELECT min(t_ns) FROM (SELECT t_ns FROM windows "
                                              "WHERE machine = ?1 AND t_ns >= ?2 AND t_ns < "
                                              "?3 ORDER BY t_ns DESC LIMIT ?4)"));
    sqlite3_bind_int64(q.get(), 1, key);
    sqlite3_bind_int64(q.get(), 2, from_ns);
    sqlite3_bind_int64(q.get(), 3, to_ns);
    sqlite3_bind_int64(q.get(), 4, latest);
    int rc = sqlite3_step(q.get());
    if (rc != SQLITE_ROW) return SqliteError(db.get(), rc, path + ": reading windows");
    if (sqlite3_column_type(q.get(), 0) != SQLITE_NULL) {
      from_ns = std::max(from_ns, static_cast<std::int64_t>(sqlite3_column_int64(q.get(), 0)));
    }
  }
  MH_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db,
                                            "SELECT t_ns, feature_set, features FROM windows "
                                            "WHERE machine = ?1 AND t_ns >= ?2 AND t_ns < ?3 "
                                            "ORDER BY t_ns"));
  sqlite3_bind_int64(s.get(), 1, key);
  sqlite3_bind_int64(s.get(), 2, from_ns);
  sqlite3_bind_int64(s.get(), 3, to_ns);
  internal::FeatureSetNames sets;
  // Per feature set: the blob column of each requested name (or empty if
  // the set lacks one of them).
  std::map<std::int64_t, std::vector<std::size_t>> columns;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    const std::int64_t set = sqlite3_column_int64(s.get(), 1);
    auto it = columns.find(set);
    if (it == columns.end()) {
      MH_ASSIGN_OR_RETURN(const std::vector<std::string>* stored, sets.Get(db, path, set));
      std::vector<std::size_t> cols;
      for (const std::string& name : names) {
        auto at = std::find(stored->begin(), stored->end(), name);
        if (at == stored->end()) {
          cols.clear();
          break;
        }
        cols.push_back(static_cast<std::size_t>(at - stored->begin()));
      }
      it = columns.emplace(set, std::move(cols)).first;
    }
    const std::vector<std::size_t>& cols = it->second;
    const void* blob = sqlite3_column_blob(s.get(), 2);
    const auto bytes = static_cast<std::size_t>(sqlite3_column_bytes(s.get(), 2));
    bool ok = cols.size() == names.size();
    for (std::size_t c : cols) ok = ok && 4 * (c + 1) <= bytes;
    if (!ok) {
      ++out.skipped;
      continue;
    }
    out.t_ns.push_back(sqlite3_column_int64(s.get(), 0));
    for (std::size_t c : cols) out.values.push_back(internal::DecodeFeature(blob, c));
  }
  if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, path + ": reading windows");
  return out;
}

}  // namespace mh::sink
