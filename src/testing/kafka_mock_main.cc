// mh-kafka-mock: a librdkafka mock Kafka cluster in its own process, for
// tests and benchmarks (test-only tool; see testing/kafka_mock.h).
//
//   mh-kafka-mock [-b BROKERS] [-t NAME:PARTITIONS]... -f BOOTSTRAP_FILE [-c CONTROL]
//
// Creates BROKERS (default 3) brokers on random 127.0.0.1 ports and the given
// topics (replication factor min(3, BROKERS)), then writes the bootstrap list
// ("127.0.0.1:p1,127.0.0.1:p2,...") to BOOTSTRAP_FILE atomically (temporary
// file + rename). Commands, one per line, are read from the FIFO CONTROL
// (opened read-write, so it never reports end of file), or from stdin
// without -c:
//   down ID | up ID     take broker ID (1..BROKERS) down / bring it back
//   rtt ID MS           add MS milliseconds of latency to broker ID
//   quit                exit
// Each command is answered on stdout with "reply N ok ..." or
// "reply N error ...", N counting commands from 1. SIGTERM/SIGINT exit.
// All data lives in memory and is gone at exit.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

// rdkafka_mock.h must come after rdkafka.h.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace {

volatile sig_atomic_t g_stop = 0;

void OnSignal(int) { g_stop = 1; }

int Usage() {
  std::fprintf(stderr,
               "usage: mh-kafka-mock [-b BROKERS] [-t NAME:PARTITIONS]... -f BOOTSTRAP_FILE "
               "[-c CONTROL_FIFO]\n");
  return 2;
}

bool ParseInt(const std::string& text, int* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < 0 || v > 1000000) return false;
  *out = static_cast<int>(v);
  return true;
}

bool WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return false;
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// Runs one command line; returns the reply text (without "reply N ").
std::string RunCommand(rd_kafka_mock_cluster_t* mc, int brokers, const std::string& line,
                       bool* quit) {
  std::istringstream in(line);
  std::string verb;
  in >> verb;
  std::vector<std::string> args;
  for (std::string a; in >> a;) args.push_back(a);
  int id = 0;
  auto broker_arg = [&]() {
    return !args.empty() && ParseInt(args[0], &id) && id >= 1 && id <= brokers;
  };
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (verb == "quit") {
    *quit = true;
    return "ok quit";
  } else if (verb == "down" && args.size() == 1 && broker_arg()) {
    err = rd_kafka_mock_broker_set_down(mc, id);
  } else if (verb == "up" && args.size() == 1 && broker_arg()) {
    err = rd_kafka_mock_broker_set_up(mc, id);
  } else if (verb == "rtt" && args.size() == 2 && broker_arg()) {
    int ms = 0;
    if (!ParseInt(args[1], &ms)) return "error bad milliseconds: " + line;
    err = rd_kafka_mock_broker_set_rtt(mc, id, ms);
  } else {
    return "error unknown or malformed command: " + line;
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return std::string("error ") + rd_kafka_err2str(err);
  return "ok " + line;
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 3;
  std::vector<std::pair<std::string, int>> topics;
  std::string bootstrap_file;
  std::string control;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    const std::string v = argv[++i];
    if (a == "-b") {
      if (!ParseInt(v, &brokers) || brokers < 1 || brokers > 16) return Usage();
    } else if (a == "-t") {
      const std::size_t colon = v.rfind(':');
      int partitions = 0;
      if (colon == std::string::npos || colon == 0 || !ParseInt(v.substr(colon + 1), &partitions) ||
          partitions < 1) {
        return Usage();
      }
      topics.emplace_back(v.substr(0, colon), partitions);
    } else if (a == "-f") {
      bootstrap_file = v;
    } else if (a == "-c") {
      control = v;
    } else {
      return Usage();
    }
  }
  if (bootstrap_file.empty()) return Usage();

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // A client handle is needed to own the cluster; it never connects anywhere.
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log.connection.close", "false", errstr, sizeof errstr);
  // The mock's broker sockets follow this handle's settings. With Nagle on,
  // a response written in pieces waits for the client's delayed ACK (40 ms):
  // every acknowledged Publish took ~50 ms instead of ~6 ms. Real brokers
  // set TCP_NODELAY too.
  rd_kafka_conf_set(conf, "socket.nagle.disable", "true", errstr, sizeof errstr);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    std::fprintf(stderr, "mh-kafka-mock: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (mc == nullptr) {
    std::fprintf(stderr, "mh-kafka-mock: cannot create the mock cluster\n");
    rd_kafka_destroy(rk);
    return 1;
  }
  const int replication = brokers < 3 ? brokers : 3;
  for (const auto& [name, partitions] : topics) {
    const rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(mc, name.c_str(), partitions, replication);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "mh-kafka-mock: topic %s: %s\n", name.c_str(), rd_kafka_err2str(err));
      rd_kafka_mock_cluster_destroy(mc);
      rd_kafka_destroy(rk);
      return 1;
    }
  }

  int control_fd = -1;
  if (!control.empty()) {
    control_fd = open(control.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (control_fd < 0) {
      std::fprintf(stderr, "mh-kafka-mock: %s: %s\n", control.c_str(), std::strerror(errno));
      rd_kafka_mock_cluster_destroy(mc);
      rd_kafka_destroy(rk);
      return 1;
    }
  }
  const std::string bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
  if (!WriteFileAtomically(bootstrap_file, bootstraps + "\n")) {
    std::fprintf(stderr, "mh-kafka-mock: cannot write %s: %s\n", bootstrap_file.c_str(),
                 std::strerror(errno));
    return 1;
  }
  std::printf("mh-kafka-mock: %d brokers at %s\n", brokers, bootstraps.c_str());
  std::fflush(stdout);

  // Poll stdin and the FIFO; stdin may be /dev/null (end of file at once),
  // then only the FIFO is read.
  struct Input {
    int fd;
    std::string buffer;
  };
  // Commands come from the control FIFO when one is given (the test harness:
  // replies are counted per command, so a stray line on an inherited stdin
  // must not be taken as one), else from stdin.
  std::vector<Input> inputs;
  if (control_fd >= 0) {
    inputs.push_back({control_fd, ""});
  } else {
    inputs.push_back({0, ""});
  }
  int replies = 0;
  bool quit = false;
  while (!quit && g_stop == 0) {
    std::vector<pollfd> fds;
    for (const Input& in : inputs) fds.push_back({in.fd, POLLIN, 0});
    const int n = poll(fds.data(), fds.size(), 200);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (std::size_t i = 0; i < fds.size() && !quit; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buf[4096];
      const ssize_t r = read(inputs[i].fd, buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        inputs[i].fd = -1;  // end of stdin: ignored from now on (poll skips fd -1)
        continue;
      }
      if (r < 0) continue;
      inputs[i].buffer.append(buf, static_cast<std::size_t>(r));
      for (std::size_t nl; (nl = inputs[i].buffer.find('\n')) != std::string::npos;) {
        std::string line = inputs[i].buffer.substr(0, nl);
        inputs[i].buffer.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        const std::string reply = RunCommand(mc, brokers, line, &quit);
        std::printf("reply %d %s\n", ++replies, reply.c_str());
        std::fflush(stdout);
        if (quit) break;
      }
    }
  }
  std::printf("mh-kafka-mock: exiting\n");
  std::fflush(stdout);
  if (control_fd >= 0) close(control_fd);
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
