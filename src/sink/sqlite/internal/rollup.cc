#include "sink/sqlite/internal/rollup.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include <sqlite3.h>

namespace mh::sink::internal {

const char* const kRollupTable = R"sql(
CREATE TABLE rollups(
  tier INTEGER NOT NULL,
  machine INTEGER NOT NULL,
  bucket_ns INTEGER NOT NULL,
  feature_set INTEGER NOT NULL,
  count INTEGER NOT NULL,
  score_count INTEGER NOT NULL,
  score_min REAL, score_max REAL, score_sum REAL,
  anomalies INTEGER NOT NULL,
  rms_min REAL, rms_max REAL, rms_sum REAL,
  feat_min BLOB NOT NULL, feat_max BLOB NOT NULL,
  feat_sum BLOB NOT NULL);
CREATE UNIQUE INDEX rollups_by_bucket ON rollups(tier, machine, bucket_ns, feature_set);
)sql";

std::int64_t BucketStart(std::int64_t t_ns, std::int64_t tier_s) {
  const std::int64_t width = tier_s * kNanosPerSecond;
  std::int64_t q = t_ns / width;
  if (t_ns % width != 0 && t_ns < 0) --q;
  return q * width;
}

void RollupAggregate::Add(const RollupWindow& w) {
  if (count == 0) {
    feat_min.assign(w.features.begin(), w.features.end());
    feat_max.assign(w.features.begin(), w.features.end());
    feat_sum.assign(w.features.size(), 0.0);
  }
  ++count;
  if (!std::isnan(w.score)) {
    if (score_count == 0) {
      score_min = score_max = w.score;
    } else {
      score_min = std::min(score_min, w.score);
      score_max = std::max(score_max, w.score);
    }
    score_sum += w.score;
    ++score_count;
    if (w.anomaly) ++anomalies;
  }
  if (!std::isnan(w.rms)) {
    if (rms_count == 0) {
      rms_min = rms_max = w.rms;
    } else {
      rms_min = std::min(rms_min, w.rms);
      rms_max = std::max(rms_max, w.rms);
    }
    rms_sum += w.rms;
    ++rms_count;
  }
  const std::size_t n = std::min(w.features.size(), feat_sum.size());
  for (std::size_t i = 0; i < n; ++i) {
    feat_min[i] = std::min(feat_min[i], w.features[i]);
    feat_max[i] = std::max(feat_max[i], w.features[i]);
    feat_sum[i] += static_cast<double>(w.features[i]);
  }
}

void RollupAggregate::Merge(const RollupAggregate& o) {
  if (o.count == 0) return;
  if (count == 0) {
    *this = o;
    return;
  }
  count += o.count;
  if (o.score_count > 0) {
    score_min = score_count ? std::min(score_min, o.score_min) : o.score_min;
    score_max = score_count ? std::max(score_max, o.score_max) : o.score_max;
    score_sum += o.score_sum;
    score_count += o.score_count;
  }
  anomalies += o.anomalies;
  if (o.rms_count > 0) {
    rms_min = rms_count ? std::min(rms_min, o.rms_min) : o.rms_min;
    rms_max = rms_count ? std::max(rms_max, o.rms_max) : o.rms_max;
    rms_sum += o.rms_sum;
    rms_count += o.rms_count;
  }
  const std::size_t n = std::min(feat_sum.size(), o.feat_sum.size());
  for (std::size_t i = 0; i < n; ++i) {
    feat_min[i] = std::min(feat_min[i], o.feat_min[i]);
    feat_max[i] = std::max(feat_max[i], o.feat_max[i]);
    feat_sum[i] += o.feat_sum[i];
  }
}

namespace {

// Widens a's minima and maxima by w's values without counting w (a replaced
// window whose old values are no longer known exactly).
void Widen(RollupAggregate& a, const RollupAggregate& w) {
  if (a.score_count > 0 && w.score_count > 0) {
    a.score_min = std::min(a.score_min, w.score_min);
    a.score_max = std::max(a.score_max, w.score_max);
  }
  if (a.rms_count > 0 && w.rms_count > 0) {
    a.rms_min = std::min(a.rms_min, w.rms_min);
    a.rms_max = std::max(a.rms_max, w.rms_max);
  }
  const std::size_t n = std::min(a.feat_min.size(), w.feat_min.size());
  for (std::size_t i = 0; i < n; ++i) {
    a.feat_min[i] = std::min(a.feat_min[i], w.feat_min[i]);
    a.feat_max[i] = std::max(a.feat_max[i], w.feat_max[i]);
  }
}

template <typename T>
std::string EncodeLE(std::span<const T> values) {
  static_assert(sizeof(float) == 4 && sizeof(double) == 8);
  std::string out(values.size() * sizeof(T), '\0');
  // The build targets little-endian machines only (docs/database.md); memcpy
  // is the IEEE-754 LE encoding there.
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

template <typename T>
bool DecodeLE(const void* data, std::size_t bytes, std::vector<T>* out) {
  if (bytes % sizeof(T) != 0) return false;
  out->resize(bytes / sizeof(T));
  if (bytes > 0) std::memcpy(out->data(), data, bytes);
  return true;
}

double ColumnReal(sqlite3_stmt* s, int col) {
  return sqlite3_column_type(s, col) == SQLITE_NULL ? NAN : sqlite3_column_double(s, col);
}

void BindBlob(sqlite3_stmt* s, int index, const std::string& bytes) {
  sqlite3_bind_blob(s, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
}

}  // namespace

std::string EncodeFloat32(std::span<const float> values) { return EncodeLE(values); }

std::string RollupFeaturesView() {
  return "CREATE VIEW rollup_features AS SELECT r.tier, k.id AS machine_id, r.bucket_ns, "
         "c.name, " +
         DecodeIeeeSql("r.feat_min", "4 * c.idx + 1", 4) + " AS min, " +
         DecodeIeeeSql("r.feat_sum", "8 * c.idx + 1", 8) + " / r.count AS mean, " +
         DecodeIeeeSql("r.feat_max", "4 * c.idx + 1", 4) +
         " AS max, r.count FROM rollups r JOIN machine_keys k ON k.key = r.machine JOIN "
         "feature_set_columns c ON c.set_id = r.feature_set";
}

bool DecodeFloat32(const void* data, std::size_t bytes, std::vector<float>* out) {
  return DecodeLE(data, bytes, out);
}

bool ReadAggregate(sqlite3_stmt* s, int col, RollupAggregate* a) {
  a->count = sqlite3_column_int64(s, col);
  a->score_count = sqlite3_column_int64(s, col + 1);
  a->score_min = ColumnReal(s, col + 2);
  a->score_max = ColumnReal(s, col + 3);
  a->score_sum = a->score_count ? sqlite3_column_double(s, col + 4) : 0;
  a->anomalies = sqlite3_column_int64(s, col + 5);
  a->rms_count = sqlite3_column_type(s, col + 6) == SQLITE_NULL ? 0 : 1;
  a->rms_min = ColumnReal(s, col + 6);
  a->rms_max = ColumnReal(s, col + 7);
  a->rms_sum = a->rms_count ? sqlite3_column_double(s, col + 8) : 0;
  return DecodeLE(sqlite3_column_blob(s, col + 9), sqlite3_column_bytes(s, col + 9),
                  &a->feat_min) &&
         DecodeLE(sqlite3_column_blob(s, col + 10), sqlite3_column_bytes(s, col + 10),
                  &a->feat_max) &&
         DecodeLE(sqlite3_column_blob(s, col + 11), sqlite3_column_bytes(s, col + 11),
                  &a->feat_sum) &&
         a->feat_min.size() == a->feat_max.size() && a->feat_min.size() == a->feat_sum.size();
}

Result<RollupWriter> RollupWriter::Create(Db& db, std::string path) {
  RollupWriter w;
  w.path_ = std::move(path);
  w.db_ = db.get();
  MH_ASSIGN_OR_RETURN(w.select_,
                      Stmt::Prepare(db, (std::string("SELECT ") + kRollupAggregateColumns +
                                         " FROM rollups WHERE tier = ?1 AND machine = ?2 AND "
                                         "bucket_ns = ?3 AND feature_set = ?4")
                                            .c_str()));
  MH_ASSIGN_OR_RETURN(
      w.upsert_,
      Stmt::Prepare(db,
                    "INSERT INTO rollups(tier, machine, bucket_ns, feature_set, count, "
                    "score_count, score_min, score_max, score_sum, anomalies, rms_min, rms_max, "
                    "rms_sum, feat_min, feat_max, feat_sum) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                    "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) ON CONFLICT(tier, machine, "
                    "bucket_ns, feature_set) DO UPDATE SET count = excluded.count, score_count = "
                    "excluded.score_count, score_min = excluded.score_min, score_max = "
                    "excluded.score_max, score_sum = excluded.score_sum, anomalies = "
                    "excluded.anomalies, rms_min = excluded.rms_min, rms_max = excluded.rms_max, "
                    "rms_sum = excluded.rms_sum, feat_min = excluded.feat_min, feat_max = "
                    "excluded.feat_max, feat_sum = excluded.feat_sum"));
  MH_ASSIGN_OR_RETURN(w.delete_bucket_,
                      Stmt::Prepare(db,
                                    "DELETE FROM rollups WHERE tier = ?1 AND machine = ?2 AND "
                                    "bucket_ns = ?3"));
  MH_ASSIGN_OR_RETURN(w.scan_windows_,
                      Stmt::Prepare(db,
                                    "SELECT feature_set, t_ns, score, anomaly, rms, features FROM "
                                    "windows WHERE machine = ?1 AND t_ns >= ?2 AND t_ns < ?3"));
  MH_ASSIGN_OR_RETURN(
      w.pruned_before_,
      Stmt::Prepare(db, "SELECT value FROM meta WHERE key = 'windows_pruned_before'"));
  return w;
}

void RollupWriter::Add(const RollupWindow& window, bool replaced) {
  for (std::int64_t tier : kRollupTiers) {
    const std::int64_t bucket = BucketStart(window.t_ns, tier);
    if (replaced) {
      RollupAggregate one;
      one.Add(window);
      auto& w = widen_[Key{tier, window.machine, bucket, window.feature_set}];
      if (w.count == 0) {
        w = one;
      } else {
        w.Merge(one);  // only its minima and maxima are used
      }
      recompute_.insert(BucketKey{tier, window.machine, bucket});
    } else {
      pending_[Key{tier, window.machine, bucket, window.feature_set}].Add(window);
    }
  }
}

void RollupWriter::Discard() {
  pending_.clear();
  recompute_.clear();
  widen_.clear();
}

Result<std::int64_t> RollupWriter::PrunedBefore() {
  sqlite3_stmt* s = pruned_before_.get();
  StmtResetter reset(s);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return INT64_MIN;
  if (rc != SQLITE_ROW) return SqliteError(db_, rc, path_ + ": reading meta");
  return sqlite3_column_int64(s, 0);
}

Status RollupWriter::Flush() {
  Status status = [&]() -> Status {
    if (pending_.empty() && recompute_.empty()) return Status::OK();
    std::int64_t pruned_before = INT64_MIN;
    if (!recompute_.empty()) {
      MH_ASSIGN_OR_RETURN(pruned_before, PrunedBefore());
    }
    // A bucket that starts before the pruning cut may have lost windows: it
    // cannot be recomputed, so the replaced window's values only widen it.
    std::set<BucketKey> exact;
    for (const BucketKey& b : recompute_) {
      if (std::get<2>(b) >= pruned_before) exact.insert(b);
    }
    for (const auto& [key, delta] : pending_) {
      if (exact.count(BucketKey{std::get<0>(key), std::get<1>(key), std::get<2>(key)})) continue;
      MH_RETURN_IF_ERROR(MergeInto(key, delta));
    }
    for (const BucketKey& b : exact) MH_RETURN_IF_ERROR(Recompute(b));
    for (const auto& [key, one] : widen_) {
      if (exact.count(BucketKey{std::get<0>(key), std::get<1>(key), std::get<2>(key)})) continue;
      RollupAggregate widen_only = one;
      widen_only.count = -1;  // marker: see MergeInto
      MH_RETURN_IF_ERROR(MergeInto(key, widen_only));
    }
    return Status::OK();
  }();
  Discard();
  return status;
}

Status RollupWriter::MergeInto(const Key& key, const RollupAggregate& delta) {
  const auto& [tier, machine, bucket, set] = key;
  RollupAggregate a;
  {
    sqlite3_stmt* s = select_.get();
    StmtResetter reset(s);
    sqlite3_bind_int64(s, 1, tier);
    sqlite3_bind_int64(s, 2, machine);
    sqlite3_bind_int64(s, 3, bucket);
    sqlite3_bind_int64(s, 4, set);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      if (!ReadAggregate(s, 0, &a)) {
        return Status::Corruption(path_ + ": rollups: tier " + std::to_string(tier) + " machine " +
                                  std::to_string(machine) + " bucket " + std::to_string(bucket) +
                                  ": feature blobs of unequal length");
      }
    } else if (rc != SQLITE_DONE) {
      return SqliteError(db_, rc, path_ + ": reading rollups");
    }
  }
  if (delta.count < 0) {
    if (a.count == 0) return Status::OK();  // the bucket is gone: nothing to widen
    Widen(a, delta);
  } else {
    // rms_count of a stored row is only known to be > 0; Merge needs no more.
    a.Merge(delta);
  }
  return Write(key, a);
}

Status RollupWriter::Recompute(const BucketKey& b) {
  const auto& [tier, machine, bucket] = b;
  {
    sqlite3_stmt* d = delete_bucket_.get();
    StmtResetter reset(d);
    sqlite3_bind_int64(d, 1, tier);
    sqlite3_bind_int64(d, 2, machine);
    sqlite3_bind_int64(d, 3, bucket);
    int rc = sqlite3_step(d);
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, path_ + ": deleting rollups");
  }
  std::map<std::int64_t, RollupAggregate> by_set;
  {
    sqlite3_stmt* s = scan_windows_.get();
    StmtResetter reset(s);
    sqlite3_bind_int64(s, 1, machine);
    sqlite3_bind_int64(s, 2, bucket);
    sqlite3_bind_int64(s, 3, bucket + tier * kNanosPerSecond);
    std::vector<float> features;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      RollupWindow w;
      w.machine = machine;
      w.feature_set = sqlite3_column_int64(s, 0);
      w.t_ns = sqlite3_column_int64(s, 1);
      w.score = ColumnReal(s, 2);
      w.anomaly = sqlite3_column_int64(s, 3) == 1;
      w.rms = ColumnReal(s, 4);
      if (!DecodeLE(sqlite3_column_blob(s, 5), sqlite3_column_bytes(s, 5), &features)) {
        return Status::Corruption(path_ + ": windows: machine " + std::to_string(machine) +
                                  " t_ns " + std::to_string(w.t_ns) +
                                  ": features blob is not a multiple of 4 bytes");
      }
      w.features = features;
      by_set[w.feature_set].Add(w);
    }
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, path_ + ": reading windows");
  }
  for (const auto& [set, a] : by_set) MH_RETURN_IF_ERROR(Write(Key{tier, machine, bucket, set}, a));
  return Status::OK();
}

Status RollupWriter::Write(const Key& key, const RollupAggregate& a) {
  const auto& [tier, machine, bucket, set] = key;
  sqlite3_stmt* s = upsert_.get();
  StmtResetter reset(s);
  sqlite3_bind_int64(s, 1, tier);
  sqlite3_bind_int64(s, 2, machine);
  sqlite3_bind_int64(s, 3, bucket);
  sqlite3_bind_int64(s, 4, set);
  sqlite3_bind_int64(s, 5, a.count);
  sqlite3_bind_int64(s, 6, a.score_count);
  if (a.score_count > 0) {
    sqlite3_bind_double(s, 7, a.score_min);
    sqlite3_bind_double(s, 8, a.score_max);
    sqlite3_bind_double(s, 9, a.score_sum);
  }
  sqlite3_bind_int64(s, 10, a.anomalies);
  if (a.rms_count > 0) {
    sqlite3_bind_double(s, 11, a.rms_min);
    sqlite3_bind_double(s, 12, a.rms_max);
    sqlite3_bind_double(s, 13, a.rms_sum);
  }
  BindBlob(s, 14, EncodeLE(std::span<const float>(a.feat_min)));
  BindBlob(s, 15, EncodeLE(std::span<const float>(a.feat_max)));
  BindBlob(s, 16, EncodeLE(std::span<const double>(a.feat_sum)));
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) return SqliteError(db_, rc, path_ + ": writing rollups");
  return Status::OK();
}

}  // namespace mh::sink::internal
