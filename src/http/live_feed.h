// LiveFeed: the server-sent events behind GET /api/stream (docs/api.md,
// "Live stream"). One poller thread per server reads the windows that reached
// the store since its last look (one indexed range query per machine whose
// latest window moved, every poll_interval), turns them into `window` and
// `state` events with a sequence number, keeps the newest ones for resuming,
// and hands them to every subscriber's bounded queue. The store may be
// written by this process (`run`) or another (`serve --db`): the feed only
// reads it.
//
// A subscriber that falls more than client_queue_events behind is dropped
// (its stream ends; the browser resumes with Last-Event-ID); the poller never
// waits for a client. "Behind" is what it has not read when new events come:
// one burst larger than client_queue_events (a bulk write, a poll after the
// store was busy) reaches a client that has read everything, whole.
//
// Thread safety: Subscribe() and Stop() may be called from any thread; a
// Subscription is used by one thread (the connection's).
#ifndef MH_HTTP_LIVE_FEED_H_
#define MH_HTTP_LIVE_FEED_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/result.h"
#include "sink/store_reader.h"

namespace mh::http {

struct LiveOptions {
  // How often the poller looks for new windows.
  std::chrono::milliseconds poll_interval{500};
  // A comment line is sent when no event went out for this long, so proxies
  // and the browser keep the connection (and a dead client is noticed).
  std::chrono::milliseconds keep_alive{15000};
  // Events kept for resuming with Last-Event-ID (about 300 bytes each).
  std::size_t history_events = 20000;
  // Events a client may leave unread when new ones come before it is
  // dropped as too slow.
  std::size_t client_queue_events = 5000;
  // Streams open at once; one more is answered 503.
  std::size_t max_clients = 16;
  // Events a `since` backlog may hold; a longer one is answered with a
  // `reset` event instead (the client reloads through the JSON API).
  std::size_t max_backlog_events = 20000;
  // Windows read per machine per poll (the rest on the next poll).
  std::size_t windows_per_poll = 5000;
  // A window that puts its machine into the anomalous state is held back
  // this long until its alarm is in the store, so the `state` event carries
  // the alarm's id.
  std::chrono::milliseconds alarm_grace{5000};
};

class LiveFeed {
 public:
  // One client's stream, from Subscribe() until destroyed.
  class Subscription {
   public:
    virtual ~Subscription() = default;
    // The next text to write to the client, in text/event-stream framing:
    // the events queued since the last call (the first call: the opening
    // `hello` event, or the resumed/backlog events), or a keep-alive comment
    // after LiveOptions::keep_alive without events. False when the stream
    // must end: the feed stopped or the client was dropped as too slow.
    virtual bool Next(std::string* out) = 0;
  };

  // Starts the poller over `reader`, which must outlive the feed. The
  // machines' current windows are the starting point: only windows written
  // after Start() are streamed live.
  static Result<std::unique_ptr<LiveFeed>> Start(sink::StoreReader* reader,
                                                 const LiveOptions& options);

  LiveFeed(const LiveFeed&) = delete;
  LiveFeed& operator=(const LiveFeed&) = delete;
  ~LiveFeed();  // Stop()

  // A new stream. last_event_id: the client's Last-Event-ID ("" if none):
  // the stream resumes after that event if it is still kept, else begins
  // with a `reset` event. Otherwise since_ns: the stream begins with the
  // stored windows with t >= since_ns (capped, see max_backlog_events).
  // Unavailable once max_clients streams are open or after Stop().
  Result<std::unique_ptr<Subscription>> Subscribe(const std::string& last_event_id,
                                                  std::optional<std::int64_t> since_ns);

  // Stops the poller and ends every stream (their Next() returns false at
  // once). Idempotent.
  void Stop();

  // Open streams (for tests and metrics).
  std::size_t clients() const;

 private:
  struct State;
  friend class LiveSubscription;
  explicit LiveFeed(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace mh::http

#endif  // MH_HTTP_LIVE_FEED_H_
