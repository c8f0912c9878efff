// Inputs shared by the report tests (report_html_test, train_report_test,
// report_browser_test): m1's alarm in the export fixture's database, and the
// feature table `train --report` is tested on.
#ifndef MH_TESTS_APP_REPORT_INPUTS_H_
#define MH_TESTS_APP_REPORT_INPUTS_H_

#include <cstdint>
#include <fstream>
#include <random>
#include <string>

#include "core/time_util.h"
#include "export_cli_test.h"
#include "sink/sqlite/alarm_store.h"

namespace mh::app::test {

// An alarm "m1-a" of m1 from window 100 to window `end_step` (kT0 + i *
// kStep), peak -0.25, with a kurtosis explanation.
inline sink::AlarmRecord AlarmOfM1(int end_step) {
  sink::AlarmRecord a;
  a.alarm_id = "m1-a";
  a.machine_id = "m1";
  a.start_ns = kT0 + 100 * kStep;
  a.end_ns = kT0 + end_step * kStep;
  a.peak_score = -0.25;
  a.explanation_text = "kurtosis_ax <9.1> sd above baseline";
  return a;
}

// A CSV of 300 rows (timestamp, a, b) 1 s apart but one 61 s step after row
// 99; the last 60 rows shifted far from the rest (a +8, b -8).
inline void WriteTrainTable(const std::string& path) {
  std::ofstream f(path);
  f << "timestamp,a,b\n";
  std::mt19937_64 rng(3);
  std::normal_distribution<double> n(0, 1);
  std::int64_t t = 1'790'000'000'000'000'000;
  for (int i = 0; i < 300; ++i) {
    t += (i == 100 ? 61 : 1) * 1'000'000'000LL;
    const double shift = i >= 240 ? 8.0 : 0.0;
    f << FormatRfc3339(t, 0) << "," << n(rng) + shift << "," << n(rng) - shift << "\n";
  }
}

}  // namespace mh::app::test

#endif  // MH_TESTS_APP_REPORT_INPUTS_H_
