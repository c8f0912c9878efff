// Test-only: child processes (real servers and the machine-health binary)
// started by a test harness, and waiting on conditions with a deadline
// (tests never sleep blindly).
#ifndef MH_TESTING_PROCESS_H_
#define MH_TESTING_PROCESS_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "core/result.h"

namespace mh::testing {

class ChildProcess {
 public:
  // Starts argv[0] (searched on PATH) with the given arguments, stdin from
  // /dev/null, stdout and stderr appended to `log_path`. `extra_env` entries
  // ("NAME=value") are added to the environment.
  static Result<std::unique_ptr<ChildProcess>> Start(
      const std::vector<std::string>& argv, const std::string& log_path,
      const std::vector<std::string>& extra_env = {});
  // Stops the process if still running: SIGTERM, up to 15 s, then SIGKILL.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  void Signal(int signal_number);
  // Waits for the process to exit; its exit code (128 + signal if killed),
  // or nullopt when still running after `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool Running();
  // SIGTERM, wait up to `timeout`, then SIGKILL; returns the exit code.
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(15));

 private:
  ChildProcess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  pid_t pid_;
  std::string log_path_;
  std::optional<int> exit_code_;
};

// Calls `condition` every 10 ms until it returns true (true) or `timeout`
// passes (false).
bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout);
// Waits, as WaitUntil, until the server `process` just started is `ready`:
// kReady, kExited when it ends first, kTimedOut.
enum class StartWait { kReady, kExited, kTimedOut };
StartWait WaitUntilReady(ChildProcess& process, const std::function<bool()>& ready,
                         std::chrono::milliseconds timeout);
// Waits until the log of `process` (ChildProcess::log_path) holds a line
// starting with `prefix` (e.g. "dashboard: " printed by machine-health run)
// and returns the rest of that line without its line end; "" when the
// process exits first or `timeout` passes.
std::string WaitForLogLine(ChildProcess& process, const std::string& prefix,
                           std::chrono::milliseconds timeout);
// True when a TCP connection to `ip`:`port` (an IPv4 address) succeeds.
bool TcpPortOpen(int port, const std::string& ip = "127.0.0.1");
// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0).
int FreeTcpPort();
// Whole file as a string ("" if it cannot be read).
std::string ReadFileText(const std::string& path);
// Writes `text` as the whole file; IOError naming the path on failure.
Status WriteFileText(const std::string& path, const std::string& text);
// `s` single-quoted for /bin/sh.
std::string ShellQuote(const std::string& s);
// Full path of `program` on PATH (or in /usr/sbin, /usr/bin), "" if absent.
std::string FindProgram(const std::string& program);

}  // namespace mh::testing

#endif  // MH_TESTING_PROCESS_H_
