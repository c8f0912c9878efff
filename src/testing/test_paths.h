// Test-only helpers for locating shared data, the built binary and a python
// with numpy/scipy/scikit-learn.
#ifndef MH_TESTING_TEST_PATHS_H_
#define MH_TESTING_TEST_PATHS_H_

#include <string>

namespace mh::testing {

// Root of the source tree (tests run from there; MH_SOURCE_DIR overrides).
std::string SourceDir();
// ../shared relative to the source root; "" if absent.
std::string SharedDir();
// The machine-health binary under test (MH_BINARY), "" if unknown.
std::string BinaryPath();
// Debian's python3 with numpy/scipy/sklearn: /usr/bin/python3.
std::string ReferencePython();
// A fresh empty directory under /tmp, removed by the caller if wanted.
std::string MakeTempDir(const std::string& prefix);
// Runs `command` with /bin/sh, returns its exit code and captures stdout.
int RunCommand(const std::string& command, std::string* stdout_text);

}  // namespace mh::testing

// In a test body: skips the test with a clear message when ../shared is absent.
#define MH_REQUIRE_SHARED_DATA()                                                 \
  do {                                                                           \
    if (::mh::testing::SharedDir().empty())                                      \
      GTEST_SKIP() << "../shared (data shared with the project) is not present"; \
  } while (0)

#endif  // MH_TESTING_TEST_PATHS_H_
