#include "sink/sqlite/internal/rollup_series.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include "sink/sqlite/internal/rollup.h"
#include "sink/sqlite/internal/windows_v4.h"

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
  return DecodeFeature(data, static_cast<std::size_t>(idx));
}

// The index of feature `name` in each feature set that has it (set id,
// index), looked up once per query: joining every row to its set's columns
// by name scans them all per row (a dense hour of 180,000 windows took 1.7 s
// that way, 0.1 s with this).
using SetIndex = std::vector<std::pair<std::int64_t, std::int64_t>>;

Result<SetIndex> FeatureIndexBySet(const Db& db, const std::string& path, const std::string& name) {
  MH_ASSIGN_OR_RETURN(
      Stmt sets, Stmt::Prepare(db, "SELECT set_id, idx FROM feature_set_columns WHERE name = ?1"));
  sqlite3_bind_text(sets.get(), 1, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
  SetIndex out;
  int rc;
  while ((rc = sqlite3_step(sets.get())) == SQLITE_ROW) {
    out.emplace_back(sqlite3_column_int64(sets.get(), 0), sqlite3_column_int64(sets.get(), 1));
  }
  if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, path + ": reading feature sets");
  return out;
}

// The index of the feature in set `set`; -1 when the set has not got it.
std::int64_t IndexIn(const SetIndex& index, std::int64_t set) {
  for (const auto& [id, idx] : index) {
    if (id == set) return idx;
  }
  return -1;
}

}  // namespace

bool HasRollups(const std::string& metric) {
  return metric != "state_score" && metric != "baseline_version";
}

Result<bool> HasRollupsIn(const Db& db, const std::string& path, std::int64_t machine_key,
                          std::int64_t from_ns, std::int64_t before_ns) {
  // Buckets wholly before `before_ns` (the bucket holding it is not history).
  MH_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db,
                                            "SELECT 1 FROM rollups WHERE ((tier = 60 AND "
                                            "machine = ?1 AND bucket_ns >= ?2 AND bucket_ns < "
                                            "?3) OR (tier = 3600 AND machine = ?1 AND bucket_ns "
                                            ">= ?2 AND bucket_ns < ?4)) LIMIT 1"));
  sqlite3_bind_int64(s.get(), 1, machine_key);
  sqlite3_bind_int64(s.get(), 2, from_ns);
  sqlite3_bind_int64(s.get(), 3, BucketStart(before_ns, 60));
  sqlite3_bind_int64(s.get(), 4, BucketStart(before_ns, 3600));
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
  sqlite3_bind_int64(s.get(), 2, from_ns);
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
  sqlite3_bind_int64(h.get(), 2, from_ns);
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
            : "SELECT bucket_ns, feat_min, feat_max, feature_set FROM rollups WHERE tier = ?1 "
              "AND machine = ?2 AND bucket_ns >= ?3 AND bucket_ns < ?4 AND feature_set IN "
              "(SELECT set_id FROM feature_set_columns WHERE name = ?5) ORDER BY bucket_ns";
  SetIndex index;
  if (!score && !rms) {
    MH_ASSIGN_OR_RETURN(index, FeatureIndexBySet(db, path, metric));
  }
  MH_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db, sql));
  sqlite3_stmt* s = stmt.get();
  sqlite3_bind_int64(s, 1, tier);
  sqlite3_bind_int64(s, 2, machine_key);
  sqlite3_bind_int64(s, 3, from_ns);
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
      const std::int64_t idx = IndexIn(index, sqlite3_column_int64(s, 3));
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

namespace {

// The windows' value of `metric`: a column, or the feature at its index in
// the window's feature set.
struct RawQuery {
  Stmt range;  // ?1 machine, ?2 from, ?3 to, ?4 limit [, ?5 feature]
  Stmt first;  // ?1 machine, ?2 at or after, ?3 to [, ?5 feature]: one row
  Stmt last;   // ?1 machine, ?2 from, ?3 before [, ?5 feature]: one row
  bool feature = false;
  SetIndex index_of_set;  // a feature's (FeatureIndexBySet)
};

Result<RawQuery> PrepareRaw(const Db& db, const std::string& path, const std::string& metric) {
  RawQuery q;
  std::string column;
  if (metric == "score" || metric == "rms" || metric == "state_score" ||
      metric == "baseline_version") {
    column = "w." + metric;
  } else {
    q.feature = true;
    MH_ASSIGN_OR_RETURN(q.index_of_set, FeatureIndexBySet(db, path, metric));
  }
  const std::string select = q.feature ? "SELECT w.t_ns, w.features, w.feature_set FROM windows w "
                                       : "SELECT w.t_ns, " + column + " FROM windows w ";
  const std::string where =
      std::string("WHERE w.machine = ?1 AND w.t_ns >= ?2 AND w.t_ns < ?3 ") +
      (q.feature ? "AND w.feature_set IN (SELECT set_id FROM feature_set_columns WHERE name = ?5) "
                 : "");
  MH_ASSIGN_OR_RETURN(q.range,
                      Stmt::Prepare(db, (select + where + "ORDER BY w.t_ns LIMIT ?4").c_str()));
  MH_ASSIGN_OR_RETURN(q.first,
                      Stmt::Prepare(db, (select + where + "ORDER BY w.t_ns LIMIT 1").c_str()));
  MH_ASSIGN_OR_RETURN(q.last,
                      Stmt::Prepare(db, (select + where + "ORDER BY w.t_ns DESC LIMIT 1").c_str()));
  return q;
}

void BindRaw(sqlite3_stmt* s, std::int64_t machine, std::int64_t from, std::int64_t to,
             const std::string& metric, bool feature) {
  sqlite3_reset(s);
  sqlite3_bind_int64(s, 1, machine);
  sqlite3_bind_int64(s, 2, from);
  sqlite3_bind_int64(s, 3, to);
  if (feature)
    sqlite3_bind_text(s, 5, metric.data(), static_cast<int>(metric.size()), SQLITE_STATIC);
}

double RawValue(sqlite3_stmt* s, const RawQuery& q) {
  if (q.feature) return FloatAt(s, 1, IndexIn(q.index_of_set, sqlite3_column_int64(s, 2)));
  return sqlite3_column_type(s, 1) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 1);
}

// Steps `s` once; appends its row to `out` (if any and after out's last).
Status StepOne(const Db& db, const std::string& path, sqlite3_stmt* s, const RawQuery& q,
               Series* out) {
  StmtResetter reset(s);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return Status::OK();
  if (rc != SQLITE_ROW) return SqliteError(db.get(), rc, path + ": reading windows");
  const std::int64_t t = sqlite3_column_int64(s, 0);
  if (!out->t_ns.empty() && t <= out->t_ns.back()) return Status::OK();
  out->t_ns.push_back(t);
  out->v.push_back(RawValue(s, q));
  return Status::OK();
}

// The minimum and the maximum window of each of `groups` equal stretches of
// time from the first window (first_ns) to the latest (last_ns, in the last
// stretch) of [first_ns, to_ns) (NaNs skipped; a stretch with no value: its
// first window), in time order, then the latest window if `latest`; at most
// kMaxScanRows rows are read (nullopt beyond: the caller draws the range
// another way).
Result<std::optional<Series>> ScanGroups(const Db& db, const std::string& path, RawQuery& q,
                                         std::int64_t machine_key, const std::string& metric,
                                         std::int64_t first_ns, std::int64_t last_ns,
                                         std::int64_t to_ns, std::size_t groups, bool latest) {
  struct Group {
    std::int64_t first_t = 0, lo_t = 0, hi_t = 0;
    double first_v = NAN, lo_v = NAN, hi_v = NAN;
    bool seen = false, valued = false;
  };
  std::vector<Group> g(groups);
  const std::int64_t width =
      std::max<std::int64_t>(1, (last_ns - first_ns) / static_cast<std::int64_t>(groups));
  std::int64_t last_t = 0;
  double last_v = NAN;
  std::size_t rows = 0;
  sqlite3_stmt* s = q.range.get();
  BindRaw(s, machine_key, first_ns, to_ns, metric, q.feature);
  sqlite3_bind_int64(s, 4, static_cast<std::int64_t>(kMaxScanRows) + 1);
  StmtResetter reset(s);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (++rows > kMaxScanRows) return std::optional<Series>();
    const std::int64_t t = sqlite3_column_int64(s, 0);
    const double v = RawValue(s, q);
    // (A window written since last_ns was read goes to the last stretch.)
    Group& gr = g[std::min(groups - 1, static_cast<std::size_t>((t - first_ns) / width))];
    if (!gr.seen) {
      gr.seen = true;
      gr.first_t = t;
      gr.first_v = v;
    }
    if (!std::isnan(v)) {
      if (!gr.valued || v < gr.lo_v) gr.lo_t = t, gr.lo_v = v;
      if (!gr.valued || v > gr.hi_v) gr.hi_t = t, gr.hi_v = v;
      gr.valued = true;
    }
    last_t = t;
    last_v = v;
  }
  if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, path + ": reading windows");
  Series out;
  auto add = [&out](std::int64_t t, double v) {
    if (!out.t_ns.empty() && t <= out.t_ns.back()) return;
    out.t_ns.push_back(t);
    out.v.push_back(v);
  };
  for (const Group& gr : g) {
    if (!gr.seen) continue;
    if (!gr.valued) {
      add(gr.first_t, gr.first_v);
    } else if (gr.lo_t <= gr.hi_t) {
      add(gr.lo_t, gr.lo_v);
      add(gr.hi_t, gr.hi_v);
    } else {
      add(gr.hi_t, gr.hi_v);
      add(gr.lo_t, gr.lo_v);
    }
  }
  if (latest && rows > 0) add(last_t, last_v);
  return std::optional<Series>(std::move(out));
}

}  // namespace

Result<Series> ReadSeriesV4(const Db& db, const std::string& path, std::int64_t machine_key,
                            const std::string& metric, std::int64_t from_ns, std::int64_t to_ns,
                            std::size_t max_points) {
  const std::int64_t minutes = (to_ns - from_ns) / (60 * kNanosPerSecond);
  const bool rollups = HasRollups(metric);
  auto from_rollups = [&]() -> Result<Series> {
    MH_ASSIGN_OR_RETURN(std::int64_t tier, ChooseTier(db, path, machine_key, from_ns, to_ns));
    return ReadRollupSeries(db, path, machine_key, metric, tier, from_ns, to_ns, max_points);
  };
  MH_ASSIGN_OR_RETURN(RawQuery q, PrepareRaw(db, path, metric));
  // The first max_points + 1 windows: all of them, or enough to know there
  // are more.
  Series all;
  {
    sqlite3_stmt* s = q.range.get();
    BindRaw(s, machine_key, from_ns, to_ns, metric, q.feature);
    sqlite3_bind_int64(s, 4, static_cast<std::int64_t>(max_points) + 1);
    StmtResetter reset(s);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      all.t_ns.push_back(sqlite3_column_int64(s, 0));
      all.v.push_back(RawValue(s, q));
    }
    if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, path + ": reading windows");
  }
  // Windows pruned from the start of the range, rollups kept: the rollups
  // show the whole range.
  if (rollups && (all.t_ns.empty() || all.t_ns.front() >= from_ns + 60 * kNanosPerSecond)) {
    const std::int64_t before = all.t_ns.empty() ? to_ns : all.t_ns.front();
    MH_ASSIGN_OR_RETURN(bool history, HasRollupsIn(db, path, machine_key, from_ns, before));
    if (history) return from_rollups();
  }
  if (all.t_ns.size() <= max_points) return all;
  // More windows than points over a range long enough for the 1-minute
  // tier to draw it (a group of whole buckets per pair of points): the
  // rollups, the minimum and the maximum of each group.
  if (rollups && minutes >= static_cast<std::int64_t>(max_points / 2) && minutes > 0) {
    return from_rollups();
  }
  const std::int64_t first_t = all.t_ns.front();
  if (max_points == 1) {
    BindRaw(q.last.get(), machine_key, from_ns, to_ns, metric, q.feature);
    Series out;
    MH_RETURN_IF_ERROR(StepOne(db, path, q.last.get(), q, &out));
    return out;
  }
  // A dense shorter range: every window is read (up to kMaxScanRows, as
  // the density of the first ones predicts) and each group of time drawn by
  // its minimum and its maximum window, then the latest window.
  const double seen_span = static_cast<double>(all.t_ns.back() - first_t) + 1;
  const double expected =
      static_cast<double>(all.t_ns.size()) * (static_cast<double>(to_ns - first_t) / seen_span);
  if (expected <= static_cast<double>(kMaxScanRows)) {
    const bool room_for_latest = max_points >= 3;
    const std::size_t groups = room_for_latest ? (max_points - 1) / 2 : 1;
    Series last;
    BindRaw(q.last.get(), machine_key, from_ns, to_ns, metric, q.feature);
    MH_RETURN_IF_ERROR(StepOne(db, path, q.last.get(), q, &last));
    const std::int64_t last_t = last.t_ns.empty() ? first_t : last.t_ns.back();
    MH_ASSIGN_OR_RETURN(std::optional<Series> scanned,
                        ScanGroups(db, path, q, machine_key, metric, first_t, last_t, to_ns, groups,
                                   room_for_latest));
    if (scanned) return std::move(*scanned);
  }
  // Too many windows to read: the rollups of whole minutes where the metric
  // has them (every minute's extremes, fewer points than max_points) ...
  if (rollups && minutes > 0) return from_rollups();
  // ... else the first window at or after each of max_points - 1 evenly
  // spaced times, and the latest one (extremes between them may be missed).
  Series out;
  for (std::size_t i = 0; i + 1 < max_points; ++i) {
    const std::int64_t at =
        first_t +
        static_cast<std::int64_t>(static_cast<double>(to_ns - first_t) * static_cast<double>(i) /
                                  static_cast<double>(max_points - 1));
    BindRaw(q.first.get(), machine_key, at, to_ns, metric, q.feature);
    MH_RETURN_IF_ERROR(StepOne(db, path, q.first.get(), q, &out));
  }
  BindRaw(q.last.get(), machine_key, from_ns, to_ns, metric, q.feature);
  MH_RETURN_IF_ERROR(StepOne(db, path, q.last.get(), q, &out));
  return out;
}

}  // namespace mh::sink::internal
