// Test helper: runs tools/features_reference.py (numpy/scipy) on windows and
// returns its values, the independent oracle of the feature tests.
#ifndef MH_TESTS_FEATURES_REFERENCE_H_
#define MH_TESTS_FEATURES_REFERENCE_H_

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/strings.h"
#include "features/window_features.h"
#include "testing/test_paths.h"

namespace mh::features::testref {

// Writes `windows` one a line, values in round-trip text.
inline void WriteWindows(const std::vector<std::vector<double>>& windows, std::ostream& f) {
  for (const auto& w : windows) {
    for (std::size_t i = 0; i < w.size(); ++i) f << (i ? " " : "") << FormatDouble(w[i]);
    f << "\n";
  }
}

// Runs tools/<script> <args> with the reference python: its output, a row of
// numbers a line. Empty with *error set on failure.
inline std::vector<std::vector<double>> RunReferenceScript(const std::string& script,
                                                           const std::string& args,
                                                           std::string* error) {
  std::string text;
  const std::string cmd = mh::testing::ReferencePython() + " " + mh::testing::SourceDir() +
                          "/tools/" + script + " " + args;
  const int rc = mh::testing::RunCommand(cmd, &text);
  std::vector<std::vector<double>> out;
  if (rc != 0) {
    *error = "reference script failed (exit " + std::to_string(rc) + "): " + cmd;
    return out;
  }
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::vector<double> row;
    std::string tok;
    while (fields >> tok) {
      auto v = ParseDouble(tok);
      if (!v.ok()) {
        *error = "bad reference output: " + tok;
        return {};
      }
      row.push_back(*v);
    }
    out.push_back(std::move(row));
  }
  return out;
}

// Values per window (features of one channel, extractor order), or an empty
// vector with *error set. `mode` "full g" or "full m/s2" adds the full set.
inline std::vector<std::vector<double>> PythonReference(
    double fs, const std::vector<Band>& bands, const std::vector<std::vector<double>>& windows,
    std::string* error, const std::string& mode = "") {
  const std::string dir = mh::testing::MakeTempDir("mh-features");
  const std::string input = dir + "/windows.txt";
  {
    std::ofstream f(input);
    f << FormatDouble(fs) << " " << windows.at(0).size();
    for (const Band& b : bands) f << " " << FormatDouble(b.lo_hz) << " " << FormatDouble(b.hi_hz);
    f << "\n";
    WriteWindows(windows, f);
  }
  std::vector<std::vector<double>> out =
      RunReferenceScript("features_reference.py", input + " " + mode, error);
  std::filesystem::remove_all(dir);
  return out;
}

}  // namespace mh::features::testref

#endif  // MH_TESTS_FEATURES_REFERENCE_H_
