// Test helper: a machine-health database filled through the SQLite sink with
// known values.
#ifndef MH_TESTS_HTTP_TEST_DB_H_
#define MH_TESTS_HTTP_TEST_DB_H_

#include <cstdint>
#include <string>
#include <vector>

namespace mh::http::testing {

// Epoch of window 0 (2026-09-21T14:13:20Z) and the window spacing.
inline constexpr std::int64_t kT0Ns = 1'790'000'000'000'000'000;
inline constexpr std::int64_t kStepNs = 100'000'000;

// Writes into `path`:
//  - "m1": windows 0..19, learning (NaN scores) for 0..9, then normal with
//    score = state_score = i/16, rms = i/4, features crest_ax = i, rms_ax = i/8;
//  - "m2": windows 0..4, anomalous from window 2 with score -i/32;
//  - "m3": windows 0..2, learning.
// Returns "" on success or an error message.
std::string FillTestDb(const std::string& path);

// Snapshot samples: 512 at 25.6 kHz, channel "ax" = 0.5 sin(2 pi 1000 t) +
// 0.1 i, "ay" = 0.25 cos(2 pi 3000 t), for window i of "m2".
inline constexpr double kSnapshotFs = 25600;
inline constexpr std::size_t kSnapshotSamples = 512;
std::vector<std::vector<double>> SnapshotSamplesOf(int i);

// After FillTestDb: stores "m2"'s windows 0, 2 and 3 again with snapshots:
// window 0 periodic, window 2 the peak of alarm "m2@A", then window 3 the
// new peak of "m2@A" (replacing window 2's) and also periodic. So "m2" has
// 3 snapshot rows: periodic 0, periodic 3 and alarm 3. Returns "" on success.
std::string AddTestSnapshots(const std::string& path);

}  // namespace mh::http::testing

#endif  // MH_TESTS_HTTP_TEST_DB_H_
