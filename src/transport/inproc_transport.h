// The in-process transport: named bounded queues inside one process
// ("inproc:NAME"), for tests and for wiring stages of one process together
// without a broker. Every subscriber of a name takes messages from the same
// queue (competing consumers). Nothing survives the process: Commit only
// marks progress.
//
// Thread safety: publishers and subscribers of one queue may be used from
// different threads; each object from one thread at a time.
#ifndef MH_TRANSPORT_INPROC_TRANSPORT_H_
#define MH_TRANSPORT_INPROC_TRANSPORT_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "transport/transport.h"

namespace mh::transport {

struct InprocOptions {
  std::size_t capacity = 65536;  // messages held before Publish waits
  // How long Publish waits for room before giving up with Unavailable.
  std::chrono::milliseconds publish_timeout{5000};
};

// The queue `name` is created on first use and lives as long as any
// publisher or subscriber of it (its options come from the first user).
std::unique_ptr<Publisher> NewInprocPublisher(const std::string& name, InprocOptions options = {});
std::unique_ptr<Subscriber> NewInprocSubscriber(const std::string& name,
                                                InprocOptions options = {});

}  // namespace mh::transport

#endif  // MH_TRANSPORT_INPROC_TRANSPORT_H_
