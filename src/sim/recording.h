// Recording: the CSV text of `machine-health simulate` (documented in
// docs/simulator.md) and the fast formatters it is built from.
//
// Data CSV:   timestamp,machine_id,sensor_id,ax,ay,az
//             one row per machine per sample instant, machines interleaved in
//             order m1..mN at each instant; timestamp RFC 3339 UTC with 9
//             fraction digits; values in g with exactly 6 decimals, which is
//             exact because samples are quantised to kLsbG.
// Labels CSV: timestamp,machine_id,fault,severity
//             one row per machine every kLabelIntervalS seconds; fault is the
//             machine's fault kind while its severity > 0, else "none";
//             severity is the shortest round-trip decimal.
//
// Thread safety: free functions are thread-safe; a TimestampFormatter is not.
#ifndef MH_SIM_RECORDING_H_
#define MH_SIM_RECORDING_H_

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/table.h"
#include "sim/machine_simulator.h"

namespace mh::sim {

// Spacing of label rows, seconds.
inline constexpr double kLabelIntervalS = 0.1;

// Receives consecutive pieces of CSV text (up to ~1 MiB each); returns an
// error to abort the writing (which then returns that error).
using ChunkSink = std::function<Status(std::string_view chunk)>;

// Instant of sample `index` (0-based) of a stream starting at start_ns with
// rate sample_rate_hz: start_ns + index * 1e9 / sample_rate_hz nanoseconds,
// rounded to the nearest ns (halves away from zero). Exact for integral rates.
std::int64_t SampleTimeNs(std::int64_t start_ns, std::int64_t index, double sample_rate_hz);

// Appends the 6-decimal text of `g` rounded to a multiple of 1e-6 ("0.012345",
// "-1.500000") at `p` and returns the end. Needs room for 28 chars. For the
// samples of MachineSimulator (|g| < 2^51 * 1e-6) the text parses back to the
// identical double.
char* AppendMicroG(double g, char* p);

// Formats instants as "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" (30 chars), caching
// the date-and-time part between calls within the same second.
class TimestampFormatter {
 public:
  static constexpr int kLength = 30;
  // Writes kLength chars at `p` and returns the end.
  char* Append(std::int64_t ns, char* p);

 private:
  std::int64_t cached_second_ = INT64_MIN;
  char prefix_[20] = {};  // "YYYY-MM-DDTHH:MM:SS"
};

// Simulates `machines` (in order) for samples_per_machine samples each,
// starting at start_ns, and passes the data CSV (header included) to `sink`.
// Returns the first error of `sink` with context "writing data", else OK.
Status WriteDataCsv(const std::vector<MachineConfig>& machines, std::int64_t start_ns,
                    std::int64_t samples_per_machine, const ChunkSink& sink);

// Receives consecutive batches of rows; returns an error to abort.
using BatchSink = std::function<Status(const TableBatch& batch)>;

// The rows of WriteDataCsv as TableBatches (for the other output formats):
// columns timestamp (kTimestamp, 9 fraction digits), machine_id and
// sensor_id (kString), ax, ay, az (kDouble, the same doubles the CSV's
// 6-decimal text reads back to), same row order, up to 4096 instants per
// batch. Returns the first error of `sink` with context "writing data".
Status GenerateData(const std::vector<MachineConfig>& machines, std::int64_t start_ns,
                    std::int64_t samples_per_machine, const BatchSink& sink);

// Passes the labels CSV (header included) for a recording of duration_s
// seconds to `sink`: rows at start + k * kLabelIntervalS for every k >= 0 with
// k * kLabelIntervalS < duration_s. Returns the first error of `sink`.
Status WriteLabelsCsv(const std::vector<MachineConfig>& machines, std::int64_t start_ns,
                      double duration_s, const ChunkSink& sink);

}  // namespace mh::sim

#endif  // MH_SIM_RECORDING_H_
