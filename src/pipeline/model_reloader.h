// ModelReloader: the --model of `score --from`, loaded at start and, with a
// poll interval (--model-poll), watched for a new version on a thread of its
// own (docs/operations.md#hot-model-reload).
//
// Change detection, cheapest first:
//   local file     stat (mtime, size, inode); when it changed, the bytes are
//                  read and hashed: the same SHA-256 (a touched file) is no
//                  new model.
//   remote source  a conditional GET (blob/blob_client.h) with the last
//                  ETag (If-None-Match) and Last-Modified (If-Modified-Since):
//                  304 downloads nothing; a 200 with the same SHA-256 is no
//                  new model either.
// A new model is validated before it is offered: its SHA-256 equals
// --model-sha256 (when pinned), it loads, its feature names equal the last
// accepted model's (with --features only the count must equal), and it
// scores a probe row (the scaler's means, else zeros) to a finite value.
// Accepted, it waits in a one-model slot (a newer one replaces it) until the
// scorer takes it between two batches (TakePending). Refused, the reason is
// logged naming the shown (secret-free) source, the old model keeps
// serving, and the same bytes are not considered again: only a further
// change of the source is. A source that cannot be read (down, 403, file
// missing) is retried at the next poll.
//
// Model version: the first 12 hex digits of the SHA-256 of the model bytes
// (sink::ModelProvenance).
//
// Thread safety: Create, Start, Stop and the destructor from one thread;
// TakePending and stats from any thread; PollOnce from one thread at a time
// (the poll thread, or a test that does not Start).
#ifndef MH_PIPELINE_MODEL_RELOADER_H_
#define MH_PIPELINE_MODEL_RELOADER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "blob/blob_client.h"
#include "core/result.h"
#include "iforest/model.h"
#include "sink/window_record.h"

namespace mh::pipeline {

// A model and where it came from, shared by the scorer and the records.
struct ServedModel {
  std::shared_ptr<const iforest::Model> model;
  std::shared_ptr<const sink::ModelProvenance> provenance;
};

struct ModelReloaderOptions {
  std::string source;  // --model: a path or remote source (may hold a SAS: never shown)
  std::string sha256;  // --model-sha256: 64 lower-case hex digits; "" = any model
  // --features keys given: a new model needs this many features (its names
  // may differ); 0: its names must equal the serving model's.
  std::size_t feature_keys = 0;
  std::chrono::milliseconds poll{0};  // 0: loaded once, never polled
  blob::BlobOptions blob;             // remote sources: environment, identity, timeouts
};

struct ModelReloaderStats {
  std::int64_t polls = 0;          // checks of the source
  std::int64_t downloads = 0;      // checks that read or downloaded the bytes
  std::int64_t unchanged = 0;      // checks that found no new model (304, same stat or bytes)
  std::int64_t poll_failures = 0;  // checks that could not read the source
  std::int64_t reloads_ok = 0;     // new models accepted
  std::int64_t reloads_refused = 0;
  // The model the scorer serves with (the initial one until it takes a new
  // one), and the wall clock (Unix seconds) it started serving.
  std::shared_ptr<const sink::ModelProvenance> serving;
  double serving_since_s = 0;
};

class ModelReloader {
 public:
  // Loads the model. Errors as blob::LoadModelSource (naming the shown
  // source); Corruption "... sha256 ABC... does not match --model-sha256
  // DEF..." (12-digit prefixes) for a pinned model with other bytes.
  static Result<std::unique_ptr<ModelReloader>> Create(ModelReloaderOptions options);
  ~ModelReloader();  // stops the poll thread

  // The model loaded by Create.
  const ServedModel& initial() const { return initial_; }
  // The source as shown in messages and metrics (no secrets).
  const std::string& shown() const { return shown_; }

  enum class PollResult : std::uint8_t { kUnchanged, kAccepted, kRefused, kFailed };
  // One check of the source (what the poll thread does every interval).
  PollResult PollOnce();

  // Starts the poll thread (nothing when options.poll is 0); Stop ends it.
  void Start();
  void Stop();

  // The accepted model waiting to be served, taken (it then counts as
  // serving); nullopt when none waits.
  std::optional<ServedModel> TakePending();

  ModelReloaderStats stats() const;

 private:
  struct Impl;
  explicit ModelReloader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  ServedModel initial_;
  std::string shown_;
};

}  // namespace mh::pipeline

#endif  // MH_PIPELINE_MODEL_RELOADER_H_
