// Self-test of replay_main.cc's per-input time limit (not a parser fuzzer):
// the input "hang" blocks forever, as a pathological input of a real target
// would; any other input returns at once.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (std::string_view(reinterpret_cast<const char*>(data), size) == "hang") {
    std::mutex mu;
    std::condition_variable never;
    std::unique_lock<std::mutex> lock(mu);
    never.wait(lock, [] { return false; });
  }
  return 0;
}
