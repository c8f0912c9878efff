#include "http/live_feed.h"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "core/time_util.h"
#include "http/internal/json_values.h"
#include "log/log.h"

namespace mh::http {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kNoWindow = std::numeric_limits<std::int64_t>::min();

// Where the poller is for one machine: the latest window streamed.
struct Cursor {
  std::int64_t t_ns = kNoWindow;
  std::string state;  // of that window; "" before the first
  // Set while a window into the anomalous state waits for its alarm.
  std::optional<Clock::time_point> held_since;
};

// An event before it is numbered: its SSE type and JSON data.
struct Event {
  std::int64_t t_ns = 0;
  const char* type = "";
  std::string data;
};

std::string Frame(const std::string& id, const char* type, const std::string& data) {
  std::string out;
  if (!id.empty()) out += "id: " + id + "\n";
  out += "event: ";
  out += type;
  out += "\ndata: " + data + "\n\n";
  return out;
}

Event WindowEvent(const std::string& machine, const sink::WindowPoint& w, double threshold) {
  json j{{"machine", machine},
         {"t", internal::EpochMs(w.t_ns)},
         {"time", FormatRfc3339(w.t_ns, 3)},
         {"score", internal::Number(w.score)},
         {"state_score", internal::Number(w.state_score)},
         {"threshold", internal::Number(threshold)},
         {"state", w.state},
         {"rms", internal::Number(w.rms)},
         {"baseline_version", w.baseline_version}};
  return {w.t_ns, "window", internal::Dump(j)};
}

Event StateEvent(const std::string& machine, std::int64_t t_ns, const std::string& from,
                 const std::string& to, const std::string& alarm_id) {
  json j{{"machine", machine},
         {"t", internal::EpochMs(t_ns)},
         {"time", FormatRfc3339(t_ns, 3)},
         {"from", from.empty() ? json(nullptr) : json(from)},
         {"to", to},
         {"alarm_id", alarm_id.empty() ? json(nullptr) : json(alarm_id)}};
  return {t_ns, "state", internal::Dump(j)};
}

// Thresholds of stored baselines by machine and version, filled on demand.
using ThresholdCache = std::map<std::string, std::map<std::int64_t, double>>;

// The threshold of the baseline version that scored a window: from the
// stored baselines (read once per unknown version), else `current` (the
// machine's present threshold; also while learning, version 0).
double ThresholdOf(sink::StoreReader& reader, ThresholdCache& cache, const std::string& machine,
                   std::int64_t version, double current) {
  if (version <= 0) return current;
  auto& known = cache[machine];
  auto it = known.find(version);
  if (it != known.end()) return it->second;
  auto list = reader.Baselines(machine);
  if (list.ok()) {
    for (const sink::BaselineInfo& b : *list) known[b.version] = b.threshold;
  }
  // A version that is not stored keeps `current`: asked once, not per window.
  return known.emplace(version, current).first->second;
}

// One client's queue.
struct Queue {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> items;  // framed events, oldest first
  bool ended = false;             // the feed stopped
  bool dropped = false;           // fell more than client_queue_events behind
};

}  // namespace

struct LiveFeed::State {
  sink::StoreReader* reader = nullptr;
  LiveOptions options;
  std::string epoch;  // tells this feed's event ids from another run's

  mutable std::mutex mu;  // guards everything below
  std::condition_variable wake;
  bool stopped = false;
  std::int64_t seq = 0;  // id of the latest event
  std::deque<std::pair<std::int64_t, std::string>> history;
  std::set<std::shared_ptr<Queue>> queues;
  // Written by the poller under mu; the poller also reads it without mu.
  std::map<std::string, Cursor> cursors;
  std::thread poller;

  // Poller only.
  ThresholdCache thresholds;
  bool failing = false;  // the last poll failed (logged once)

  std::string Id(std::int64_t n) const { return epoch + "-" + std::to_string(n); }

  double Threshold(const std::string& machine, std::int64_t version, double current) {
    return ThresholdOf(*reader, thresholds, machine, version, current);
  }

  // The id of `machine`'s alarm that covers t_ns (the one that opened or
  // closed at that window); "" if the store has none yet.
  std::string AlarmAt(const std::string& machine, std::int64_t t_ns) {
    sink::AlarmFilter filter;
    filter.machine_id = machine;
    filter.from_ns = t_ns;
    filter.to_ns = t_ns == std::numeric_limits<std::int64_t>::max() ? t_ns : t_ns + 1;
    filter.limit = 1;
    auto alarms = reader->Alarms(filter);
    if (!alarms.ok() || alarms->empty()) return "";
    return alarms->front().alarm_id;
  }

  // The events of `machine`'s windows after cursor `c` (advanced over them).
  Status MachineEvents(const sink::MachineSummary& m, Cursor& c, std::vector<Event>* out) {
    MH_ASSIGN_OR_RETURN(auto windows, reader->WindowsAfter(m.id, c.t_ns, options.windows_per_poll));
    for (const sink::WindowPoint& w : windows) {
      const bool changed = w.state != c.state;
      std::string alarm_id;
      if (changed && (w.state == "anomalous" || c.state == "anomalous")) {
        alarm_id = AlarmAt(m.id, w.t_ns);
        if (alarm_id.empty() && w.state == "anomalous") {
          // The alarm stage may store the alarm just after the window.
          if (!c.held_since) c.held_since = Clock::now();
          if (Clock::now() - *c.held_since < options.alarm_grace) return Status::OK();
        }
      }
      c.held_since.reset();
      out->push_back(WindowEvent(m.id, w, Threshold(m.id, w.baseline_version, m.threshold)));
      if (changed) out->push_back(StateEvent(m.id, w.t_ns, c.state, w.state, alarm_id));
      c.t_ns = w.t_ns;
      c.state = w.state;
    }
    return Status::OK();
  }

  // Numbers, keeps and hands out `events`. Caller holds mu.
  void PublishLocked(const std::vector<Event>& events) {
    if (events.empty()) return;
    std::vector<std::string> framed;
    framed.reserve(events.size());
    for (const Event& e : events) {
      ++seq;
      framed.push_back(Frame(Id(seq), e.type, e.data));
      history.emplace_back(seq, framed.back());
      if (history.size() > options.history_events) history.pop_front();
    }
    for (const auto& q : queues) {
      std::lock_guard<std::mutex> lock(q->mu);
      if (q->dropped) continue;
      // Dropped for what it left unread, not for the size of this burst.
      if (q->items.size() > options.client_queue_events) {
        q->dropped = true;
        q->items.clear();
      } else {
        q->items.insert(q->items.end(), framed.begin(), framed.end());
      }
      q->cv.notify_one();
    }
  }

  void Poll() {
    auto machines = reader->Machines();
    if (!machines.ok()) {
      if (!failing) log::Warn("http", "live stream: " + machines.status().ToString());
      failing = true;
      return;
    }
    std::vector<Event> events;
    std::map<std::string, Cursor> moved;
    for (const sink::MachineSummary& m : *machines) {
      auto it = cursors.find(m.id);
      Cursor c = it == cursors.end() ? Cursor{} : it->second;
      if (m.updated_ns <= c.t_ns && !c.held_since) continue;
      Status s = MachineEvents(m, c, &events);
      if (!s.ok()) {
        if (!failing) log::Warn("http", "live stream: " + s.ToString());
        failing = true;
        return;  // nothing of this poll is published: the next one retries
      }
      moved[m.id] = std::move(c);
    }
    failing = false;
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [id, c] : moved) cursors[id] = std::move(c);
    PublishLocked(events);
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mu);
    while (!stopped) {
      wake.wait_for(lock, options.poll_interval, [this] { return stopped; });
      if (stopped) break;
      lock.unlock();
      Poll();
      lock.lock();
    }
  }

  // The stored events of windows with since_ns <= t <= the cursors' times,
  // in time order (ties: by machine). Empty with false if there are more
  // than max_backlog_events.
  bool Backlog(std::int64_t since_ns, const std::map<std::string, Cursor>& at,
               std::vector<Event>* out) {
    auto machines = reader->Machines();
    if (!machines.ok()) return false;
    std::map<std::string, double> current;
    for (const auto& m : *machines) current[m.id] = m.threshold;
    ThresholdCache thr;
    for (const auto& [id, c] : at) {
      if (c.t_ns < since_ns) continue;
      const std::int64_t after = since_ns == kNoWindow ? kNoWindow : since_ns - 1;
      auto windows = reader->WindowsAfter(id, after, options.max_backlog_events + 1);
      if (!windows.ok()) return false;
      std::string prev;
      bool first = true;
      for (const sink::WindowPoint& w : *windows) {
        if (w.t_ns > c.t_ns) break;
        const double threshold = ThresholdOf(*reader, thr, id, w.baseline_version, current[id]);
        out->push_back(WindowEvent(id, w, threshold));
        if (!first && w.state != prev) {
          const bool alarm = w.state == "anomalous" || prev == "anomalous";
          out->push_back(
              StateEvent(id, w.t_ns, prev, w.state, alarm ? AlarmAt(id, w.t_ns) : std::string()));
        }
        prev = w.state;
        first = false;
        if (out->size() > options.max_backlog_events) return false;
      }
    }
    std::stable_sort(out->begin(), out->end(),
                     [](const Event& a, const Event& b) { return a.t_ns < b.t_ns; });
    return true;
  }
};

// Subscribe()'s product (a friend of LiveFeed, for State).
class LiveSubscription : public LiveFeed::Subscription {
 public:
  LiveSubscription(std::shared_ptr<LiveFeed::State> state, std::shared_ptr<Queue> queue)
      : state_(std::move(state)), queue_(std::move(queue)) {}
  ~LiveSubscription() override;
  bool Next(std::string* out) override;

 private:
  std::shared_ptr<LiveFeed::State> state_;
  std::shared_ptr<Queue> queue_;
};

LiveSubscription::~LiveSubscription() {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->queues.erase(queue_);
}

bool LiveSubscription::Next(std::string* out) {
  out->clear();
  std::unique_lock<std::mutex> lock(queue_->mu);
  queue_->cv.wait_for(lock, state_->options.keep_alive, [this] {
    return !queue_->items.empty() || queue_->ended || queue_->dropped;
  });
  if (queue_->ended || queue_->dropped) return false;
  if (queue_->items.empty()) {
    *out = ": keep-alive\n\n";
    return true;
  }
  for (const std::string& item : queue_->items) *out += item;
  queue_->items.clear();
  return true;
}

LiveFeed::LiveFeed(std::shared_ptr<State> state) : state_(std::move(state)) {}

LiveFeed::~LiveFeed() { Stop(); }

Result<std::unique_ptr<LiveFeed>> LiveFeed::Start(sink::StoreReader* reader,
                                                  const LiveOptions& options) {
  auto state = std::make_shared<State>();
  state->reader = reader;
  state->options = options;
  state->options.history_events = std::max<std::size_t>(1, options.history_events);
  state->options.client_queue_events = std::max<std::size_t>(1, options.client_queue_events);
  state->options.windows_per_poll = std::max<std::size_t>(1, options.windows_per_poll);
  state->epoch = std::to_string(WallNowNs() / 1'000'000);
  MH_ASSIGN_OR_RETURN(auto machines, reader->Machines());
  for (const sink::MachineSummary& m : machines) {
    Cursor c;
    c.t_ns = m.updated_ns;
    c.state = m.state;  // the state of that latest window
    state->cursors[m.id] = c;
  }
  State* raw = state.get();
  state->poller = std::thread([raw] { raw->Run(); });
  return std::unique_ptr<LiveFeed>(new LiveFeed(std::move(state)));
}

Result<std::unique_ptr<LiveFeed::Subscription>> LiveFeed::Subscribe(
    const std::string& last_event_id, std::optional<std::int64_t> since_ns) {
  auto queue = std::make_shared<Queue>();
  std::map<std::string, Cursor> at;
  std::string hello_id;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->stopped) return Status::Unavailable("the server is stopping");
    if (state_->queues.size() >= state_->options.max_clients) {
      return Status::Unavailable("too many live streams open (" +
                                 std::to_string(state_->options.max_clients) + ")");
    }
    hello_id = state_->Id(state_->seq);
    json hello{{"id", hello_id}, {"resumed", false}, {"backlog", 0}};
    if (!last_event_id.empty()) {
      // "<epoch>-<seq>" of this feed, still kept: replay what followed it.
      const std::string prefix = state_->epoch + "-";
      std::optional<std::int64_t> after;
      if (last_event_id.rfind(prefix, 0) == 0) {
        auto n = ParseInt(last_event_id.substr(prefix.size()));
        const auto kept = static_cast<std::int64_t>(state_->history.size());
        if (n.ok() && *n <= state_->seq && *n >= state_->seq - kept) after = *n;
      }
      if (after) {
        for (const auto& [n, text] : state_->history) {
          if (n > *after) queue->items.push_back(text);
        }
        hello["resumed"] = true;
      } else {
        json reset{{"reason", "the event " + last_event_id +
                                  " is no longer kept (or is of an earlier server run)"}};
        queue->items.push_back(Frame(hello_id, "reset", internal::Dump(reset)));
      }
    } else if (since_ns) {
      at = state_->cursors;
    }
    queue->items.push_back(Frame(hello_id, "hello", internal::Dump(hello)));
    state_->queues.insert(queue);
  }
  auto sub = std::make_unique<LiveSubscription>(state_, queue);
  if (last_event_id.empty() && since_ns) {
    // Read outside the feed's lock; events of windows after `at` are queued
    // behind the hello meanwhile, so there is no gap and no overlap.
    std::vector<Event> backlog;
    std::vector<std::string> framed;
    if (state_->Backlog(*since_ns, at, &backlog)) {
      for (const Event& e : backlog) framed.push_back(Frame("", e.type, e.data));
      json hello{{"id", hello_id}, {"resumed", false}, {"backlog", backlog.size()}};
      framed.push_back(Frame(hello_id, "hello", internal::Dump(hello)));
    } else {
      json reset{{"reason", "more than " + std::to_string(state_->options.max_backlog_events) +
                                " events since the requested time"}};
      framed.push_back(Frame(hello_id, "reset", internal::Dump(reset)));
    }
    std::lock_guard<std::mutex> lock(queue->mu);
    // Dropped or stopped meanwhile: the stream ends at the first Next().
    if (!queue->dropped && !queue->ended && !queue->items.empty()) {
      queue->items.pop_front();  // the plain hello, replaced
      queue->items.insert(queue->items.begin(), framed.begin(), framed.end());
    }
  }
  return std::unique_ptr<Subscription>(std::move(sub));
}

void LiveFeed::Stop() {
  std::thread poller;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->stopped) return;
    state_->stopped = true;
    state_->wake.notify_all();
    for (const auto& q : state_->queues) {
      std::lock_guard<std::mutex> qlock(q->mu);
      q->ended = true;
      q->cv.notify_all();
    }
    poller = std::move(state_->poller);
  }
  if (poller.joinable()) poller.join();
}

std::size_t LiveFeed::clients() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->queues.size();
}

}  // namespace mh::http
