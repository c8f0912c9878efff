#include "http/metrics_server.h"

#include <mutex>
#include <thread>

#include <httplib.h>

#include "http/api.h"
#include "http/internal/send.h"
#include "http/listener.h"

namespace mh::http {

struct MetricsServer::Impl {
  MetricsServerOptions options;
  int port = 0;
  httplib::Server server;
  std::thread thread;
  std::mutex stop_mu;
  bool stopped = false;  // guarded by stop_mu
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() { Stop(); }

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const MetricsServerOptions& options) {
  if (options.metrics == nullptr) return Status::InvalidArgument("metrics server: no registry");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const Impl* im = impl.get();
  impl->server.Get("/healthz", [](const httplib::Request& req, httplib::Response& res) {
    internal::Send(req, HealthResponse(), res);
  });
  impl->server.Get("/readyz", [im](const httplib::Request& req, httplib::Response& res) {
    internal::Send(
        req, ReadyResponse(im->options.readiness ? im->options.readiness() : std::string()), res);
  });
  impl->server.Get("/metrics", [im](const httplib::Request& req, httplib::Response& res) {
    internal::Send(req, PrometheusResponse(*im->options.metrics), res);
  });
  impl->server.Get(".*", [](const httplib::Request& req, httplib::Response& res) {
    internal::Send(req, NotFoundResponse(req.path), res);
  });
  impl->server.set_payload_max_length(4096);
  impl->server.set_read_timeout(5, 0);
  impl->server.set_write_timeout(5, 0);
  MH_ASSIGN_OR_RETURN(impl->port,
                      BindAndListen(impl->server, options.host, options.port, &impl->thread));
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

int MetricsServer::port() const { return impl_->port; }

std::string MetricsServer::url() const {
  return "http://" + HostPort(impl_->options.host, impl_->port) + "/";
}

void MetricsServer::Stop() {
  std::lock_guard<std::mutex> lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace mh::http
