// The standard process metrics of Prometheus' client libraries, read from
// /proc/self at each scrape: process_cpu_seconds_total,
// process_resident_memory_bytes, process_virtual_memory_bytes,
// process_start_time_seconds (Unix time), process_open_fds.
//
// Thread safety: any thread.
#ifndef MH_METRICS_PROCESS_METRICS_H_
#define MH_METRICS_PROCESS_METRICS_H_

#include "core/result.h"
#include "metrics/metrics.h"

namespace mh::metrics {

struct ProcessSample {
  double cpu_seconds = 0;         // user + system
  double resident_bytes = 0;      // RSS
  double virtual_bytes = 0;       // VSZ
  double start_time_seconds = 0;  // Unix time the process started
  double open_fds = 0;
};

// Reads /proc/self/stat, /proc/stat (boot time) and /proc/self/fd.
// IOError naming the file when one cannot be read or parsed.
Result<ProcessSample> ReadProcessSample();

// Adds a collector of the process metrics to `registry` and returns its id
// (Registry::RemoveCollector). A failed read is reported as no samples.
int AddProcessCollector(Registry& registry);

}  // namespace mh::metrics

#endif  // MH_METRICS_PROCESS_METRICS_H_
