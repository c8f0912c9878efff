// Long-range series from the rollups (schema version 4): the minimum and the
// maximum of each bucket (or group of buckets), so that a chart of 30 days
// or a year keeps its peaks while reading a few thousand rows at most.
// Only src/sink/sqlite/ may include this header.
//
// Thread safety: as the Db passed in (one thread at a time).
#ifndef MH_SINK_SQLITE_INTERNAL_ROLLUP_SERIES_H_
#define MH_SINK_SQLITE_INTERNAL_ROLLUP_SERIES_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/result.h"
#include "sink/sqlite/internal/sqlite_util.h"
#include "sink/sqlite/sqlite_reader.h"

namespace mh::sink::internal {

// Most rollup rows one series query reads: a 1-minute query covers up to
// this many minutes (2.8 days), longer ranges read the 1-hour tier (a year is
// 8,760 rows).
inline constexpr std::int64_t kMaxRollupRows = 4000;

// Whether a metric has rollups: "score", "rms" or a feature name (not
// "state_score" or "baseline_version").
bool HasRollups(const std::string& metric);

// The tier (60 or 3600) for [from_ns, to_ns): 1-minute unless that would be
// more than kMaxRollupRows buckets, or the 1-minute rollups of the start of
// the range were pruned while 1-hour ones remain.
Result<std::int64_t> ChooseTier(const Db& db, const std::string& path, std::int64_t machine_key,
                                std::int64_t from_ns, std::int64_t to_ns);

// Whether rollups of `machine_key` start at or after from_ns and end
// before the bucket (of their tier) that holds before_ns:
// the per-window data of that stretch were pruned, but it has history.
Result<bool> HasRollupsIn(const Db& db, const std::string& path, std::int64_t machine_key,
                          std::int64_t from_ns, std::int64_t before_ns);

// The series of `metric` from the `tier` rollups with bucket start in
// [from_ns, to_ns): per group of consecutive buckets, two points,
// its minimum at the group's start and its maximum half-way through (times
// clamped to >= from_ns), so at most max_points points (>= 1; with 1, the
// latest bucket's maximum). Buckets without a value (scores while learning)
// are skipped. `metric`: "score", "rms" or a feature name.
Result<Series> ReadRollupSeries(const Db& db, const std::string& path, std::int64_t machine_key,
                                const std::string& metric, std::int64_t tier, std::int64_t from_ns,
                                std::int64_t to_ns, std::size_t max_points);

// Most windows ReadSeriesV4 reads to draw a dense range exactly (about 1.4 h
// at 50 windows/s; ~0.1 s of reading).
inline constexpr std::size_t kMaxScanRows = 250'000;

// SqliteReader::GetSeries on a version 4 file, reading at most about
// kMaxScanRows windows or a few thousand rollup rows (`machine_key`:
// machine_keys.key):
// - at most max_points windows in range: those windows;
// - windows pruned from the start of the range while rollups of it remain,
//   or more windows than max_points over at least max_points / 2 minutes
//   (metrics with rollups): ReadRollupSeries of the tier ChooseTier picks
//   (min and max per group of buckets starting in the range);
// - else, when the range holds at most kMaxScanRows windows (as the density
//   of its first max_points + 1 predicts): (max_points - 1) / 2 equal
//   stretches of time from its first to its latest window, each drawn by its
//   minimum and
//   its maximum window in time order (NaNs skipped; a stretch without a value
//   by its first window), then the latest window (max_points 2: one stretch,
//   no latest; 1: the latest window alone);
// - else, with rollups: the 1-minute rollups (the extremes of every minute,
//   fewer than max_points points); without (state_score, baseline_version):
//   one index seek per point at evenly spaced times (the first and the
//   latest window kept; extremes between them not guaranteed).
// `metric`: score, rms, state_score, baseline_version or a feature name (a
// feature with no stored value in range gives an empty series).
Result<Series> ReadSeriesV4(const Db& db, const std::string& path, std::int64_t machine_key,
                            const std::string& metric, std::int64_t from_ns, std::int64_t to_ns,
                            std::size_t max_points);

}  // namespace mh::sink::internal

#endif  // MH_SINK_SQLITE_INTERNAL_ROLLUP_SERIES_H_
