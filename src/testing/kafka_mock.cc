#include "testing/kafka_mock.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testing/test_paths.h"

namespace mh::testing {
namespace {

std::string Tail(const std::string& text, std::size_t n = 2000) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

}  // namespace

std::string KafkaMockPath() {
  if (const char* env = std::getenv("MH_KAFKA_MOCK"); env != nullptr && *env != '\0') return env;
#ifdef MH_KAFKA_MOCK_PATH
  return MH_KAFKA_MOCK_PATH;
#else
  return "";
#endif
}

Result<std::unique_ptr<KafkaMockCluster>> KafkaMockCluster::Start(const Options& options) {
  const std::string program = KafkaMockPath();
  if (program.empty() || ::access(program.c_str(), X_OK) != 0) {
    return Status::NotFound("kafka mock: executable '" + program +
                            "' not found (build the mh-kafka-mock target or set MH_KAFKA_MOCK)");
  }
  std::unique_ptr<KafkaMockCluster> mock(new KafkaMockCluster());
  mock->dir_ = MakeTempDir("mh-kafka-mock");
  if (mock->dir_.empty()) return Status::IOError("kafka mock: cannot create a temp dir");
  mock->control_path_ = mock->dir_ + "/control";
  if (::mkfifo(mock->control_path_.c_str(), 0600) != 0) {
    return Status::IOError("kafka mock: mkfifo " + mock->control_path_ + ": " +
                           std::strerror(errno));
  }
  const std::string bootstrap_file = mock->dir_ + "/bootstrap";
  std::vector<std::string> argv = {program,
                                   "-b",
                                   std::to_string(options.brokers),
                                   "-f",
                                   bootstrap_file,
                                   "-c",
                                   mock->control_path_};
  for (const auto& [name, partitions] : options.topics) {
    argv.push_back("-t");
    argv.push_back(name + ":" + std::to_string(partitions));
  }
  MH_ASSIGN_OR_RETURN(mock->process_, ChildProcess::Start(argv, mock->dir_ + "/mock.log"));
  const bool ready =
      WaitUntil([&] { return !ReadFileText(bootstrap_file).empty() || !mock->process_->Running(); },
                std::chrono::seconds(10));
  std::string text = ReadFileText(bootstrap_file);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (!ready || text.empty()) {
    return Status::Unavailable("kafka mock: no bootstrap list after 10 s; log: " +
                               Tail(mock->Log()));
  }
  mock->bootstrap_ = text;
  // The mock opened the FIFO read-write before writing the bootstrap file,
  // so this does not block.
  mock->control_fd_ = ::open(mock->control_path_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (mock->control_fd_ < 0) {
    return Status::IOError("kafka mock: open " + mock->control_path_ + ": " + std::strerror(errno));
  }
  return mock;
}

KafkaMockCluster::~KafkaMockCluster() {
  if (control_fd_ >= 0) ::close(control_fd_);
  if (process_) process_->Stop(std::chrono::seconds(10));
  process_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string KafkaMockCluster::Address(const std::string& topic) const {
  return "kafka://" + bootstrap_ + "/" + topic;
}

std::string KafkaMockCluster::Log() const {
  return process_ ? ReadFileText(process_->log_path()) : "";
}

Status KafkaMockCluster::Command(const std::string& line) {
  const std::string text = line + "\n";
  if (::write(control_fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return Status::IOError("kafka mock: writing '" + line + "': " + std::strerror(errno));
  }
  const std::string marker = "reply " + std::to_string(++commands_sent_) + " ";
  std::string reply;
  const bool answered = WaitUntil(
      [&] {
        const std::string log = Log();
        const std::size_t pos = log.find(marker);
        if (pos == std::string::npos) return false;
        // Only a whole line: the mock's write may be seen half done.
        const std::size_t end = log.find('\n', pos);
        if (end == std::string::npos) return false;
        reply = log.substr(pos + marker.size(), end - pos - marker.size());
        return true;
      },
      std::chrono::seconds(10));
  if (!answered) {
    return Status::Unavailable("kafka mock: no reply to '" + line + "'; log: " + Tail(Log()));
  }
  if (reply.rfind("ok", 0) != 0) return Status::Internal("kafka mock: '" + line + "': " + reply);
  return Status::OK();
}

Status KafkaMockCluster::BrokerDown(int id) { return Command("down " + std::to_string(id)); }
Status KafkaMockCluster::BrokerUp(int id) { return Command("up " + std::to_string(id)); }
Status KafkaMockCluster::SetRtt(int id, int ms) {
  return Command("rtt " + std::to_string(id) + " " + std::to_string(ms));
}

}  // namespace mh::testing
