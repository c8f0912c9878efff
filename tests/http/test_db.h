// Test helper: a machine-health database filled through the SQLite sink with
// known values.
#ifndef MH_TESTS_HTTP_TEST_DB_H_
#define MH_TESTS_HTTP_TEST_DB_H_

#include <cstdint>
#include <string>

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

}  // namespace mh::http::testing

#endif  // MH_TESTS_HTTP_TEST_DB_H_
