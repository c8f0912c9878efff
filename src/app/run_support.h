// Helpers shared by the long-running subcommands (run, serve): option
// parsing for listen addresses, signal handling, and process statistics.
#ifndef MH_APP_RUN_SUPPORT_H_
#define MH_APP_RUN_SUPPORT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace mh::app {

struct ListenAddress {
  std::string host;
  int port = 0;
};

// Parses "ADDR:PORT" (e.g. "127.0.0.1:8080", "0.0.0.0:0", "[::1]:8080");
// InvalidArgument naming `option` otherwise.
Result<ListenAddress> ParseListenAddress(std::string_view option, std::string_view text);

// Installs SIGINT/SIGTERM handlers that set a flag read by StopRequested()
// (cleared here: each long-running command starts unstopped).
void InstallStopSignalHandlers();
bool StopRequested();

// User + system CPU time this process has used, in seconds.
double ProcessCpuSeconds();

// Peak resident set size of this process in bytes (VmHWM), 0 if unknown.
std::int64_t PeakRssBytes();

}  // namespace mh::app

#endif  // MH_APP_RUN_SUPPORT_H_
