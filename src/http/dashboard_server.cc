#include "http/dashboard_server.h"

#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/time_util.h"
#include "http/api.h"
#include "http/internal/json_values.h"
#include "http/internal/send.h"
#include "http/listener.h"
#include "log/log.h"
#include "metrics/process_metrics.h"
#include "sink/sqlite/alarm_store.h"
#include "sink/sqlite/baseline_store.h"
#include "sink/sqlite/sqlite_reader.h"

namespace mh::http {
namespace {

Params ToParams(const httplib::Request& req) {
  Params p;
  for (const auto& [key, value] : req.params) {
    if (!p.values.emplace(key, value).second && p.repeated.empty()) p.repeated = key;
  }
  return p;
}

}  // namespace

struct DashboardServer::Impl {
  std::string host;
  int port = 0;
  std::shared_ptr<sink::StoreReader> reader;
  std::shared_ptr<const registry::Registry> machine_registry;  // may be null
  std::string db_path;
  bool allow_ack = true;
  std::function<void()> on_alarm_event;
  std::mutex store_mu;  // guards store (opened on first use)
  std::unique_ptr<sink::AlarmStore> store;
  bool allow_baseline_changes = true;
  score::LearnOptions learn;
  std::mutex baselines_mu;  // guards baselines (opened on first use)
  std::unique_ptr<sink::BaselineStore> baselines;
  std::shared_ptr<metrics::Registry> metrics_registry;
  int db_collector = 0;
  std::function<std::string()> readiness;

  // GET /readyz: the owner's readiness, then whether the database reads.
  Response Ready() {
    std::string reason = readiness ? readiness() : std::string();
    if (reason.empty()) {
      auto machines = reader->Machines();
      if (!machines.ok()) reason = "database not readable: " + machines.status().message();
    }
    return ReadyResponse(reason);
  }

  // The read-write baseline store, opened on first use; null with an error
  // response in `err` if it cannot be opened.
  sink::BaselineStore* Baselines(Response& err) {
    std::lock_guard<std::mutex> lock(baselines_mu);
    if (baselines == nullptr) {
      auto opened = sink::BaselineStore::Open({db_path});
      if (!opened.ok()) {
        log::Error("http",
                   "opening the database for baseline changes: " + opened.status().ToString());
        err.status = opened.status().IsUnavailable() ? 503 : 500;
        err.body = R"({"error":"cannot open the database for writing"})";
        return nullptr;
      }
      baselines = std::move(opened).value();
    }
    return baselines.get();
  }

  Response BaselineChange(const httplib::Request& req, bool retrain) {
    sink::BaselineStore* s = nullptr;
    if (allow_baseline_changes) {
      Response err;
      s = Baselines(err);
      if (s == nullptr) return err;
    }
    const std::string machine = req.matches[1];
    if (!retrain) return BaselineResetResponse(s, machine);
    return BaselineRetrainResponse(s, db_path, machine, req.body, learn);
  }

  Response Ack(const httplib::Request& req) {
    if (!allow_ack) return AckResponse(nullptr, req.matches[1], req.body, 0);
    sink::AlarmStore* s = nullptr;
    {
      std::lock_guard<std::mutex> lock(store_mu);
      if (store == nullptr) {
        auto opened = sink::AlarmStore::Open({db_path});
        if (!opened.ok()) {
          log::Error("http",
                     "opening the database for acknowledgements: " + opened.status().ToString());
          Response err;
          err.status = opened.status().IsUnavailable() ? 503 : 500;
          err.body = R"({"error":"cannot open the database for writing"})";
          return err;
        }
        store = std::move(opened).value();
      }
      s = store.get();
    }
    Response r = AckResponse(s, req.matches[1], req.body, WallNowNs());
    if (r.status == 200 && on_alarm_event) on_alarm_event();
    return r;
  }
  std::unique_ptr<LiveFeed> feed;
  httplib::Server server;
  std::thread thread;
  std::mutex stop_mu;
  bool stopped = false;

  // GET /api/stream: one subscription per connection, written as the feed
  // hands out events; the connection's thread waits in Next().
  void Stream(const httplib::Request& req, httplib::Response& res) {
    auto request = ParseStreamRequest(ToParams(req), req.get_header_value("Last-Event-ID"));
    Response err;
    if (!request.ok()) {
      err.status = 400;
      err.body = internal::Dump(nlohmann::json{{"error", request.status().message()}});
      internal::Send(req, err, res);
      return;
    }
    auto sub = feed->Subscribe(request->last_event_id, request->since_ns);
    if (!sub.ok()) {
      err.status = 503;
      err.body = internal::Dump(nlohmann::json{{"error", sub.status().message()}});
      internal::Send(req, err, res);
      res.set_header("Retry-After", "5");
      return;
    }
    std::shared_ptr<LiveFeed::Subscription> stream = std::move(sub).value();
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("X-Accel-Buffering", "no");
    // Exactly "text/event-stream": httplib compresses every other text/* type
    // (for a browser asking for gzip), and its compressor holds events back.
    res.set_chunked_content_provider(
        "text/event-stream", [stream](std::size_t, httplib::DataSink& sink) {
          std::string text;
          if (!stream->Next(&text)) {
            sink.done();  // feed stopped or client too slow: end the stream
            return true;
          }
          return sink.write(text.data(), text.size());
        });
  }

  void Routes() {
    sink::StoreReader* r = reader.get();
    // Handlers never let an exception reach httplib: they answer 500.
    auto guard = [](auto handler) {
      return [handler](const httplib::Request& req, httplib::Response& res) {
        try {
          internal::Send(req, handler(req), res);
        } catch (const std::exception& e) {
          log::Error("http", std::string("handler failed: ") + e.what());
          Response err;
          err.status = 500;
          err.body = R"({"error":"internal error"})";
          internal::Send(req, err, res);
        }
      };
    };
    server.Get("/healthz", guard([](const httplib::Request&) { return HealthResponse(); }));
    server.Get("/readyz", guard([this](const httplib::Request&) { return Ready(); }));
    server.Get("/metrics", guard([m = metrics_registry.get()](const httplib::Request&) {
                 return PrometheusResponse(*m);
               }));
    const registry::Registry* reg = machine_registry.get();
    server.Get("/api/machines",
               guard([r, reg](const httplib::Request&) { return MachinesResponse(*r, reg); }));
    server.Get("/api/series", guard([r](const httplib::Request& req) {
                 return SeriesResponse(*r, ToParams(req));
               }));
    server.Get("/api/metrics", guard([r](const httplib::Request& req) {
                 return MetricsResponse(*r, ToParams(req));
               }));
    server.Get("/api/alarms", guard([r](const httplib::Request& req) {
                 return AlarmsResponse(*r, ToParams(req));
               }));
    server.Get(R"(/api/alarms/(.+))", guard([r](const httplib::Request& req) {
                 return AlarmResponse(*r, req.matches[1]);
               }));
    server.Post(R"(/api/alarms/(.+)/ack)",
                guard([this](const httplib::Request& req) { return Ack(req); }));
    server.Get("/api/baselines", guard([r](const httplib::Request& req) {
                 return BaselinesResponse(*r, ToParams(req));
               }));
    server.Get(R"(/api/baselines/([^/]+))", guard([r](const httplib::Request& req) {
                 return BaselineResponse(*r, req.matches[1], ToParams(req));
               }));
    server.Post(R"(/api/baselines/([^/]+)/reset)", guard([this](const httplib::Request& req) {
                  return BaselineChange(req, /*retrain=*/false);
                }));
    server.Post(R"(/api/baselines/([^/]+)/retrain)", guard([this](const httplib::Request& req) {
                  return BaselineChange(req, /*retrain=*/true);
                }));
    server.Get("/api/snapshots", guard([r](const httplib::Request& req) {
                 return SnapshotsResponse(*r, ToParams(req));
               }));
    server.Get(R"(/api/snapshots/([^/]+))", guard([r](const httplib::Request& req) {
                 return SnapshotResponse(*r, req.matches[1], ToParams(req));
               }));
    server.Get("/api/stream", [this](const httplib::Request& req, httplib::Response& res) {
      try {
        Stream(req, res);
      } catch (const std::exception& e) {
        log::Error("http", std::string("stream failed: ") + e.what());
        res.status = 500;
      }
    });
    server.Get("/api/.*",
               guard([](const httplib::Request& req) { return NotFoundResponse(req.path); }));
    server.Get(".*", guard([](const httplib::Request& req) { return StaticResponse(req.path); }));
  }
};

DashboardServer::DashboardServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DashboardServer::~DashboardServer() { Stop(); }

Result<std::unique_ptr<DashboardServer>> DashboardServer::Start(const ServerOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    return Status::InvalidArgument("port " + std::to_string(options.port) +
                                   " is outside [0, 65535]");
  }
  auto impl = std::make_unique<Impl>();
  impl->host = options.host;
  if (options.reader != nullptr) {
    impl->reader = options.reader;
  } else {
    MH_ASSIGN_OR_RETURN(impl->reader, sink::SqliteReader::Open(options.db_path));
  }
  impl->machine_registry = options.registry;
  impl->db_path = options.db_path;
  impl->allow_ack = options.allow_ack && options.reader == nullptr;
  impl->on_alarm_event = options.on_alarm_event;
  impl->allow_baseline_changes = options.allow_baseline_changes && options.reader == nullptr;
  impl->learn = options.learn;
  impl->readiness = options.readiness;
  impl->metrics_registry = options.metrics;
  if (impl->metrics_registry == nullptr) {
    impl->metrics_registry = std::make_shared<metrics::Registry>();
    metrics::AddProcessCollector(*impl->metrics_registry);
  }
  // Requests carry small JSON bodies at most (an acknowledgement, a
  // retrain range).
  impl->server.set_payload_max_length(64 * 1024);
  MH_ASSIGN_OR_RETURN(impl->feed, LiveFeed::Start(impl->reader.get(), options.live));
  // Every open stream holds a worker thread: room for the most streams
  // allowed beside httplib's usual pool for the other requests.
  const std::size_t workers = CPPHTTPLIB_THREAD_POOL_COUNT + options.live.max_clients;
  impl->server.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  impl->Routes();
  // The static assets' ETags and gzip forms, made now rather than in a
  // browser's first request.
  (void)StaticResponse("/");
  impl->server.set_read_timeout(5, 0);
  impl->server.set_write_timeout(5, 0);
  // A page's dozen requests on its browser's few connections (httplib
  // closes a connection after 5 by default).
  impl->server.set_keep_alive_max_count(100);
  MH_ASSIGN_OR_RETURN(impl->port,
                      BindAndListen(impl->server, options.host, options.port, &impl->thread));
  impl->db_collector = AddDatabaseCollector(*impl->metrics_registry, *impl->reader);
  auto result = std::unique_ptr<DashboardServer>(new DashboardServer(std::move(impl)));
  return result;
}

int DashboardServer::port() const { return impl_->port; }

std::string DashboardServer::url() const {
  return "http://" + HostPort(impl_->host, impl_->port) + "/";
}

void DashboardServer::Stop() {
  std::lock_guard<std::mutex> lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  // Streams first: their threads return at once, so stop() need not wait.
  if (impl_->feed) impl_->feed->Stop();
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  // The registry may outlive the server (its owner shares it); the
  // database collector reads this server's reader.
  impl_->metrics_registry->RemoveCollector(impl_->db_collector);
}

}  // namespace mh::http
