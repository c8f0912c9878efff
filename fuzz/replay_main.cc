// Runs a libFuzzer-style target over files, so that every fuzz corpus is
// replayed as a normal test with GCC (no libFuzzer needed):
//   <target>_replay [--timeout SECONDS] FILE_OR_DIR...
// Exit 0 when every input ran without a crash (sanitizers catch the rest)
// and within the time limit per input.
//
// Time limit: a slow input is a failure, as in libFuzzer (-timeout): a
// watchdog thread ends the run with exit 1, naming the input, when one input
// runs longer than the limit (default 10 s; --timeout, else the environment
// variable MH_FUZZ_TIMEOUT; 0 disables). The target cannot be interrupted
// safely, so the whole process stops there. fuzz/CMakeLists.txt passes
// MH_FUZZ_TIMEOUT (a CMake cache variable) to every corpus replay.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

using Clock = std::chrono::steady_clock;

// Watches the input being run; ends the process if it overruns the limit.
class Watchdog {
 public:
  explicit Watchdog(double limit_s) : limit_s_(limit_s) {
    if (limit_s_ > 0) thread_ = std::thread([this] { Loop(); });
  }
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void Begin(const std::string& input) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      input_ = input;
      running_ = true;
      deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(limit_s_));
    }
    cv_.notify_all();
  }
  void End() {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = false;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      if (!running_) {
        cv_.wait(lock);
        continue;
      }
      cv_.wait_until(lock, deadline_);
      if (running_ && !stop_ && Clock::now() >= deadline_) {
        std::fprintf(stderr,
                     "replay: %s: still running after %g s, the per-input time limit "
                     "(--timeout or MH_FUZZ_TIMEOUT): a slow input is a failure\n",
                     input_.c_str(), limit_s_);
        std::fflush(stderr);
        std::_Exit(1);
      }
    }
  }

  const double limit_s_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string input_;           // guarded by mu_
  bool running_ = false;        // guarded by mu_
  bool stop_ = false;           // guarded by mu_
  Clock::time_point deadline_;  // guarded by mu_
  std::thread thread_;
};

struct Slowest {
  double seconds = 0;
  std::string input;
};

int RunFile(const std::filesystem::path& path, Watchdog& watchdog, Slowest* slowest) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return 1;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const Clock::time_point start = Clock::now();
  watchdog.Begin(path.string());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  watchdog.End();
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  if (s >= slowest->seconds) *slowest = {s, path.string()};
  return 0;
}

// A limit in seconds (0 to 10^6), or -1 if `text` is not one.
double ParseLimit(const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  return end != text && *end == '\0' && v >= 0 && v <= 1e6 ? v : -1;
}

}  // namespace

int main(int argc, char** argv) {
  double limit_s = 10;
  if (const char* env = std::getenv("MH_FUZZ_TIMEOUT"); env != nullptr && *env != '\0') {
    limit_s = ParseLimit(env);
    if (limit_s < 0) {
      std::fprintf(stderr, "replay: MH_FUZZ_TIMEOUT '%s' is not a number of seconds\n", env);
      return 2;
    }
  }
  std::vector<std::filesystem::path> args;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--timeout") {
      if (i + 1 == argc || (limit_s = ParseLimit(argv[i + 1])) < 0) {
        std::fprintf(stderr, "replay: --timeout needs a number of seconds (0: no limit)\n");
        return 2;
      }
      ++i;
    } else {
      args.emplace_back(arg);
    }
  }
  // Every file, in a stable order (the directory iterator's is not).
  std::vector<std::filesystem::path> inputs;
  for (const std::filesystem::path& p : args) {
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
        if (e.is_regular_file()) inputs.push_back(e.path());
      }
    } else {
      inputs.push_back(p);
    }
  }
  std::sort(inputs.begin(), inputs.end());
  int failures = 0;
  Slowest slowest;
  {
    Watchdog watchdog(limit_s);
    for (const std::filesystem::path& p : inputs) failures += RunFile(p, watchdog, &slowest);
  }
  std::printf("replay: %zu inputs, %d unreadable, time limit %g s per input, slowest %.3f s (%s)\n",
              inputs.size(), failures, limit_s, slowest.seconds, slowest.input.c_str());
  return failures == 0 && !inputs.empty() ? 0 : 1;
}
