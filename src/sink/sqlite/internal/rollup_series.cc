#include "sink/sqlite/internal/rollup_series.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <sqlite3.h>

#include "sink/sqlite/internal/rollup.h"

namespace mh::sink::internal {
namespace {

struct Bucket {
  std::int64_t t_ns;
  double min, max;
};

// A float32 at `idx` of a little-endian float32 blob; NaN if out of range.
double FloatAt(sqlite3_stmt* s, int col, std::int64_t idx) {
  const int bytes = sqlite3_column_bytes(s, col);
  const void* data = sqlite3_column_blob(s, col);
  if (idx < 0 || (idx + 1) * 4 > bytes || data == nullptr) return NAN;
  float f;
  std::memcpy(&f, static_cast<const char*>(data) + idx * 4, 4);
  return f;
}

}  // namespace

bool HasRollups(const std::string& metric) {
  return metric != "state_score" && metric != "baseline_version";
}

Result<bool> HasRollupsIn(const Db& db, const std::string& path, std::int64_t machine_key,
                          std::int64_t from_ns, std::int64_t before_ns) {
  MH_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db,
                                            "SELECT 1 FROM rollups WHERE tier IN (60, 3600) AND "
                                            "machine = ?1 AND bucket_ns >= ?2 AND bucket_ns < ?3 "
                                            "LIMIT 1"));
  sqlite3_bind_int64(s.get(), 1, machine_key);
  sqlite3_bind_int64(s.get(), 2, BucketStart(from_ns, 3600));
  sqlite3_bind_int64(s.get(), 3, before_ns);
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db.get(), rc, path + ": reading rollups");
}

Result<std::int64_t> ChooseTier(const Db& db, const std::string& path, std::int64_t machine_key,
                                std::int64_t from_ns, std::int64_t to_ns) {
  const std::int64_t minutes = (to_ns - from_ns) / (60 * kNanosPerSecond);
  if (minutes > kMaxRollupRows) return 3600;
  // The oldest 1-minute bucket in range: if it starts more than an hour
  // after `from` while 1-hour buckets lie before it, the 1-minute tier was
  // pruned there and the 1-hour tier shows more of the range.
  MH_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db,
                                            "SELECT min(bucket_ns) FROM rollups WHERE tier = 60 "
                                            "AND machine = ?1 AND bucket_ns >= ?2 AND bucket_ns "
                                            "< ?3"));
  sqlite3_bind_int64(s.get(), 1, machine_key);
  sqlite3_bind_int64(s.get(), 2, BucketStart(from_ns, 60));
  sqlite3_bind_int64(s.get(), 3, to_ns);
  int rc = sqlite3_step(s.get());
  if (rc != SQLITE_ROW) return SqliteError(db.get(), rc, path + ": reading rollups");
  const std::int64_t first =
      sqlite3_column_type(s.get(), 0) == SQLITE_NULL ? to_ns : sqlite3_column_int64(s.get(), 0);
  if (first <= from_ns + 3600 * kNanosPerSecond) return 60;
  MH_ASSIGN_OR_RETURN(Stmt h, Stmt::Prepare(db,
                                            "SELECT 1 FROM rollups WHERE tier = 3600 AND machine "
                                            "= ?1 AND bucket_ns >= ?2 AND bucket_ns < ?3 LIMIT 1"));
  sqlite3_bind_int64(h.get(), 1, machine_key);
  sqlite3_bind_int64(h.get(), 2, BucketStart(from_ns, 3600));
  sqlite3_bind_int64(h.get(), 3, BucketStart(first, 3600));
  rc = sqlite3_step(h.get());
  if (rc == SQLITE_ROW) return 3600;
  if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, path + ": reading rollups");
  return 60;
}

Result<Series> ReadRollupSeries(const Db& db, const std::string& path, std::int64_t machine_key,
                                const std::string& metric, std::int64_t tier, std::int64_t from_ns,
                                std::int64_t to_ns, std::size_t max_points) {
  const bool score = metric == "score";
  const bool rms = metric == "rms";
  const char* sql =
      score ? "SELECT bucket_ns, score_min, score_max FROM rollups WHERE tier = ?1 AND machine = "
              "?2 AND bucket_ns >= ?3 AND bucket_ns < ?4 AND score_count > 0 ORDER BY bucket_ns"
      : rms ? "SELECT bucket_ns, rms_min, rms_max FROM rollups WHERE tier = ?1 AND machine = ?2 "
              "AND bucket_ns >= ?3 AND bucket_ns < ?4 AND rms_min IS NOT NULL ORDER BY bucket_ns"
            : "SELECT r.bucket_ns, r.feat_min, r.feat_max, c.idx FROM rollups r JOIN "
              "feature_set_columns c ON c.set_id = r.feature_set AND c.name = ?5 WHERE r.tier = "
              "?1 AND r.machine = ?2 AND r.bucket_ns >= ?3 AND r.bucket_ns < ?4 ORDER BY "
              "r.bucket_ns";
  MH_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db, sql));
  sqlite3_stmt* s = stmt.get();
  sqlite3_bind_int64(s, 1, tier);
  sqlite3_bind_int64(s, 2, machine_key);
  sqlite3_bind_int64(s, 3, BucketStart(from_ns, tier));
  sqlite3_bind_int64(s, 4, to_ns);
  if (!score && !rms) {
    sqlite3_bind_text(s, 5, metric.data(), static_cast<int>(metric.size()), SQLITE_STATIC);
  }
  std::vector<Bucket> buckets;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    Bucket b{sqlite3_column_int64(s, 0), 0, 0};
    if (score || rms) {
      b.min = sqlite3_column_double(s, 1);
      b.max = sqlite3_column_double(s, 2);
    } else {
      const std::int64_t idx = sqlite3_column_int64(s, 3);
      b.min = FloatAt(s, 1, idx);
      b.max = FloatAt(s, 2, idx);
      if (std::isnan(b.min) || std::isnan(b.max)) continue;
    }
    // Two feature sets in one bucket (a pipeline restarted with other
    // features): one bucket.
    if (!buckets.empty() && buckets.back().t_ns == b.t_ns) {
      buckets.back().min = std::min(buckets.back().min, b.min);
      buckets.back().max = std::max(buckets.back().max, b.max);
    } else {
      buckets.push_back(b);
    }
  }
  if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, path + ": reading rollups");
  Series out;
  if (buckets.empty()) return out;
  if (max_points == 1) {
    out.t_ns.push_back(std::max(buckets.back().t_ns, from_ns));
    out.v.push_back(buckets.back().max);
    return out;
  }
  // Groups of consecutive buckets, as even as integers allow.
  const std::size_t n = buckets.size();
  const std::size_t groups = std::min(n, max_points / 2);
  const std::int64_t width = tier * kNanosPerSecond;
  for (std::size_t g = 0; g < groups; ++g) {
    const std::size_t begin = g * n / groups;
    const std::size_t end = (g + 1) * n / groups;
    double mn = buckets[begin].min, mx = buckets[begin].max;
    for (std::size_t i = begin + 1; i < end; ++i) {
      mn = std::min(mn, buckets[i].min);
      mx = std::max(mx, buckets[i].max);
    }
    const std::int64_t start = std::max(buckets[begin].t_ns, from_ns);
    const std::int64_t span_end = std::min(buckets[end - 1].t_ns + width, to_ns);
    std::int64_t mid = start + (span_end - start) / 2;
    if (mid <= start) mid = start + 1;
    out.t_ns.push_back(start);
    out.v.push_back(mn);
    out.t_ns.push_back(mid);
    out.v.push_back(mx);
  }
  return out;
}

}  // namespace mh::sink::internal
