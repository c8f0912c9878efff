// Sink: where scored windows go (SQLite now; InfluxDB later).
//
// Lifecycle: created by a factory, Write() called from one thread at a time
// (the pipeline's writer thread), Close() once; nothing is written after
// Close. A batch is all or nothing: on error nothing of it is stored and the
// caller keeps it to retry (kUnavailable) or gives up.
#ifndef MH_SINK_SINK_H_
#define MH_SINK_SINK_H_

#include <span>

#include "core/status.h"
#include "sink/window_record.h"

namespace mh::sink {

class Sink {
 public:
  virtual ~Sink() = default;
  // Stores a batch atomically. IOError / Unavailable on failure.
  virtual Status Write(std::span<const WindowRecord> batch) = 0;
  // Makes everything written durable and releases resources.
  virtual Status Close() = 0;
};

}  // namespace mh::sink

#endif  // MH_SINK_SINK_H_
