#include "metrics/process_metrics.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace mh::metrics {
namespace {

Result<std::string> ReadText(const char* path) {
  std::ifstream in(path);
  if (!in) return Status::IOError(std::string(path) + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Result<ProcessSample> ReadProcessSample() {
  MH_ASSIGN_OR_RETURN(std::string stat, ReadText("/proc/self/stat"));
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so
  // the fields are counted from the last ')'; the first after it is field 3.
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return Status::IOError("/proc/self/stat: no ')' after comm");
  std::istringstream fields(stat.substr(close + 1));
  std::vector<std::string> f;
  for (std::string w; fields >> w;) f.push_back(w);
  // Fields 14 utime, 15 stime, 22 starttime (clock ticks), 23 vsize (bytes),
  // 24 rss (pages): indices 11, 12, 19, 20, 21 here.
  if (f.size() < 22) {
    return Status::IOError("/proc/self/stat: " + std::to_string(f.size() + 2) +
                           " fields, expected at least 24");
  }
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  ProcessSample s;
  try {
    s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
    s.virtual_bytes = std::stod(f[20]);
    s.resident_bytes = std::stod(f[21]) * page;
    const double start_ticks = std::stod(f[19]);
    MH_ASSIGN_OR_RETURN(std::string proc_stat, ReadText("/proc/stat"));
    const std::size_t at = proc_stat.find("\nbtime ");
    if (at == std::string::npos) return Status::IOError("/proc/stat: no btime line");
    s.start_time_seconds = std::stod(proc_stat.substr(at + 7)) + start_ticks / ticks;
  } catch (const std::exception&) {
    return Status::IOError("/proc/self/stat: a field is not a number");
  }
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    s.open_fds += 1;
  }
  return s;
}

int AddProcessCollector(Registry& registry) {
  return registry.AddCollector([](Collection& c) {
    auto s = ReadProcessSample();
    if (!s.ok()) return;
    c.Counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", {},
              s->cpu_seconds);
    c.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {},
            s->resident_bytes);
    c.Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {}, s->virtual_bytes);
    c.Gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
            {}, s->start_time_seconds);
    c.Gauge("process_open_fds", "Number of open file descriptors.", {}, s->open_fds);
  });
}

}  // namespace mh::metrics
