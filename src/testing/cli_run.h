// In-process runs of the machine-health command line for tests: RunMain
// (app/command.h) with its output and error streams kept, and stderr (where
// the log writes) captured alongside. Header-only, so that only the tests
// that include it link mh_app.
//
// Thread safety: one run at a time (stderr capture is process-wide).
#ifndef MH_TESTING_CLI_RUN_H_
#define MH_TESTING_CLI_RUN_H_

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "app/command.h"

namespace mh::testing {

struct CliRun {
  int code = 0;     // the exit code (app::kExitOk, kExitFailure, kExitUsage)
  std::string out;  // what the command wrote to its output stream
  std::string err;  // its error stream, then the log lines written meanwhile
};

// Runs `machine-health <args>` in this process.
inline CliRun RunCli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  app::CommandIo io{out, err};
  ::testing::internal::CaptureStderr();
  CliRun run;
  run.code = app::RunMain(args, io);
  const std::string logged = ::testing::internal::GetCapturedStderr();
  run.out = out.str();
  run.err = err.str() + logged;
  return run;
}

}  // namespace mh::testing

#endif  // MH_TESTING_CLI_RUN_H_
