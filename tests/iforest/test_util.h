// Helpers shared by the iforest tests: running the python reference scripts
// and reading files.
#ifndef MH_TESTS_IFOREST_TEST_UTIL_H_
#define MH_TESTS_IFOREST_TEST_UTIL_H_

#include <fstream>
#include <sstream>
#include <string>

#include "testing/test_paths.h"

namespace mh::iforest::test {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// Runs tools/<script> with the reference python and `args`; returns its exit
// code and stdout.
inline int RunPython(const std::string& script, const std::string& args, std::string* out) {
  const std::string cmd = mh::testing::ReferencePython() + " " + mh::testing::SourceDir() +
                          "/tools/" + script + " " + args;
  return mh::testing::RunCommand(cmd, out);
}

}  // namespace mh::iforest::test

#endif  // MH_TESTS_IFOREST_TEST_UTIL_H_
