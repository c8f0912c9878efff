// Test-only: a librdkafka mock Kafka cluster (real Kafka wire protocol on
// 127.0.0.1, no TLS, no SASL) running in a child process, mh-kafka-mock
// (testing/kafka_mock_main.cc), started in a fresh temporary directory.
//
// Finding the executable: the path of the mh-kafka-mock target is compiled
// into this library (MH_KAFKA_MOCK_PATH, from $<TARGET_FILE:mh-kafka-mock>;
// the library depends on the target, so building a test builds the mock);
// the environment variable MH_KAFKA_MOCK overrides it.
//
// Lifecycle: Start() returns once the bootstrap list is known (about 0.1 s);
// the destructor stops the process (SIGTERM) and removes the directory.
// Broker ids are 1..brokers. All data is in memory and dies with the object.
// Thread safety: one thread at a time.
#ifndef MH_TESTING_KAFKA_MOCK_H_
#define MH_TESTING_KAFKA_MOCK_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "testing/process.h"

namespace mh::testing {

class KafkaMockCluster {
 public:
  struct Options {
    int brokers = 3;
    // Topics created at start: name and partition count (replication factor
    // min(3, brokers)). Unknown topics are auto-created with 4 partitions.
    std::vector<std::pair<std::string, int>> topics;
  };

  // Starts the cluster. NotFound if the mh-kafka-mock executable is missing;
  // Unavailable if it does not come up within 10 s (log tail in the message).
  static Result<std::unique_ptr<KafkaMockCluster>> Start(const Options& options);
  ~KafkaMockCluster();
  KafkaMockCluster(const KafkaMockCluster&) = delete;
  KafkaMockCluster& operator=(const KafkaMockCluster&) = delete;

  // "127.0.0.1:p1,127.0.0.1:p2,..." for bootstrap.servers / kafka:// addresses.
  const std::string& bootstrap() const { return bootstrap_; }
  // "kafka://BOOTSTRAP/topic" (append "?..." for options).
  std::string Address(const std::string& topic) const;

  // Takes broker `id` down (connections closed, new ones refused) / brings it
  // back. Returns once the mock has applied the command.
  Status BrokerDown(int id);
  Status BrokerUp(int id);
  // Adds `ms` milliseconds of round-trip latency to broker `id`.
  Status SetRtt(int id, int ms);

  // The mock process's output (for failure messages).
  std::string Log() const;
  const std::string& dir() const { return dir_; }

 private:
  KafkaMockCluster() = default;
  Status Command(const std::string& line);

  std::string dir_;
  std::string bootstrap_;
  std::string control_path_;
  int control_fd_ = -1;
  int commands_sent_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// Path of the mh-kafka-mock executable (see the header comment), "" if unknown.
std::string KafkaMockPath();

}  // namespace mh::testing

#endif  // MH_TESTING_KAFKA_MOCK_H_
