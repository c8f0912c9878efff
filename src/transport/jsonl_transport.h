// JSON lines as a transport: one message per line. Publishers write to a
// stream (target "-": stdout) or append to a file ("jsonl:PATH"); the file
// subscriber reads a file from start to end ("--from jsonl:PATH"), which makes
// the streaming scorer usable on recorded events and testable without a
// broker. Message keys are not written (the payload carries its sensor id).
//
// Thread safety: each object from one thread at a time.
#ifndef MH_TRANSPORT_JSONL_TRANSPORT_H_
#define MH_TRANSPORT_JSONL_TRANSPORT_H_

#include <iosfwd>
#include <memory>
#include <string>

#include "core/result.h"
#include "transport/transport.h"

namespace mh::transport {

// Each payload followed by '\n', one write per batch, flushed after every
// batch (a paced replay is visible as it happens). `out` is not owned and
// must outlive the publisher. IOError when the stream fails.
std::unique_ptr<Publisher> NewStreamPublisher(std::ostream& out);

// Appends to `path` (created if missing). With `sync`, each batch is
// fdatasync'ed before Publish returns (the acknowledgement of a file).
Result<std::unique_ptr<Publisher>> NewJsonLinesFilePublisher(const std::string& path, bool sync);

// Reads `path` line by line; empty lines are skipped; origin is
// "PATH:LINE" (1-based). AtEnd() once the last line was handed out. A line
// longer than 64 MiB is a Corruption error naming the line.
Result<std::unique_ptr<Subscriber>> NewJsonLinesFileSubscriber(const std::string& path);

}  // namespace mh::transport

#endif  // MH_TRANSPORT_JSONL_TRANSPORT_H_
