// Test-only: a server program (influxd, victoria-metrics, ...) that a test or
// benchmark runs on loopback, with a fresh temp dir of its own (its data,
// config and log "<program>.log" go there) and a TCP port on 127.0.0.1 that
// was free a moment ago.
//
// Lifecycle: Create finds the program and reserves the dir and port; Start()
// spawns it and waits until it is ready; Stop() ends it (SIGTERM, SIGKILL
// after 15 s); Start() again restarts it on the same port and dir (outage
// tests). The destructor stops it and removes the dir (kept when
// MH_KEEP_TEST_DIRS is set, for post-mortem).
//
// Thread safety: one thread per object.
#ifndef MH_TESTING_SERVER_PROCESS_H_
#define MH_TESTING_SERVER_PROCESS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "testing/process.h"

namespace mh::testing {

struct ServerProgram {
  std::string name;       // the program on PATH, e.g. "influxd"; names the log and messages
  std::string package;    // the Debian package that installs it
  std::string needed_by;  // who needs it, e.g. "the InfluxDB integration tests"
  std::string path{};     // the program's file when not on PATH (an npm tool); "" = PATH
};

class ServerProcess {
 public:
  // Does not start the server. NotFound with an install hint when the program
  // is not installed (tests must fail on it, not skip); IOError when no temp
  // dir or free port can be had.
  static Result<std::unique_ptr<ServerProcess>> Create(ServerProgram program);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT".
  std::string url() const;
  const std::string& dir() const { return dir_; }
  bool running() const { return process_ != nullptr; }

  // Runs the program with `args` (nothing when already running) and calls
  // `ready` until it returns true, up to 30 s; Unavailable with the log's
  // tail when the server exits first or is not ready in time.
  Status Start(const std::vector<std::string>& args, const std::function<bool()>& ready);
  // SIGTERM, waits for exit; Internal unless it exits 0 or by the signal. The
  // port and dir stay reserved.
  Status Stop();
  // The server's log so far.
  std::string LogText() const;

 private:
  ServerProcess() = default;

  ServerProgram program_;
  std::string path_;  // of the program
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace mh::testing

#endif  // MH_TESTING_SERVER_PROCESS_H_
