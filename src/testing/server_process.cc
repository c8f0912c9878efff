#include "testing/server_process.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "testing/test_paths.h"

namespace mh::testing {

Result<std::unique_ptr<ServerProcess>> ServerProcess::Create(ServerProgram program) {
  std::unique_ptr<ServerProcess> server(new ServerProcess());
  server->program_ = std::move(program);
  const std::string& name = server->program_.name;
  server->path_ = server->program_.path.empty() ? FindProgram(name) : server->program_.path;
  if (!server->program_.path.empty() && !std::filesystem::exists(server->path_)) {
    server->path_.clear();
  }
  if (server->path_.empty()) {
    return Status::NotFound(name + " is not installed (apt-get install " +
                            server->program_.package + "); " + server->program_.needed_by +
                            " need it");
  }
  server->dir_ = MakeTempDir("mh-" + name);
  if (server->dir_.empty()) return Status::IOError("cannot create a temp dir for " + name);
  server->port_ = FreeTcpPort();
  if (server->port_ == 0) return Status::IOError("no free TCP port for " + name);
  return server;
}

ServerProcess::~ServerProcess() {
  if (process_ != nullptr) process_->Stop();
  process_.reset();
  if (!dir_.empty() && std::getenv("MH_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string ServerProcess::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

Status ServerProcess::Start(const std::vector<std::string>& args,
                            const std::function<bool()>& ready) {
  if (process_ != nullptr) return Status::OK();
  std::vector<std::string> argv = {path_};
  argv.insert(argv.end(), args.begin(), args.end());
  MH_ASSIGN_OR_RETURN(process_, ChildProcess::Start(argv, dir_ + "/" + program_.name + ".log"));
  const StartWait wait = WaitUntilReady(*process_, ready, std::chrono::seconds(30));
  if (wait != StartWait::kReady) {
    const bool exited = wait == StartWait::kExited;
    process_.reset();
    std::string log = LogText();
    if (log.size() > 2000) log = "..." + log.substr(log.size() - 2000);
    return Status::Unavailable(program_.name +
                               (exited ? " exited at start" : " not ready after 30 s") +
                               "; its log: " + log);
  }
  return Status::OK();
}

Status ServerProcess::Stop() {
  if (process_ == nullptr) return Status::OK();
  const int code = process_->Stop();
  process_.reset();
  // 0: a clean exit on SIGTERM; 143 (128 + 15): killed by the signal before it could.
  if (code != 0 && code != 128 + 15) {
    return Status::Internal(program_.name + " exited with " + std::to_string(code));
  }
  return Status::OK();
}

std::string ServerProcess::LogText() const {
  return ReadFileText(dir_ + "/" + program_.name + ".log");
}

}  // namespace mh::testing
