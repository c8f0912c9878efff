#include "app/run_support.h"

#include <atomic>
#include <csignal>
#include <fstream>
#include <string>

#include <sys/resource.h>

#include "core/strings.h"

namespace mh::app {
namespace {
// Set by the handler, read by other threads: a lock-free atomic is both
// async-signal-safe and free of data races (volatile sig_atomic_t is only
// the former).
std::atomic<int> g_stop{0};
static_assert(std::atomic<int>::is_always_lock_free);
extern "C" void OnStopSignal(int) { g_stop.store(1); }
}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view option, std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument(std::string(option) + ": expected ADDR:PORT (e.g. " +
                                   "127.0.0.1:8080), got '" + std::string(text) + "'");
  };
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad();
  std::string_view host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return bad();
    host = host.substr(1, host.size() - 2);
  }
  auto port = ParseInt(text.substr(colon + 1));
  if (!port.ok() || *port < 0 || *port > 65535) return bad();
  return ListenAddress{std::string(host), static_cast<int>(*port)};
}

void InstallStopSignalHandlers() {
  g_stop.store(0);  // a new run (in-process tests run several) starts unstopped
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool StopRequested() { return g_stop.load() != 0; }

double ProcessCpuSeconds() {
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::int64_t PeakRssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return std::stoll(line.substr(6)) * 1024;
    }
  }
  return 0;
}

}  // namespace mh::app
