// Test-only: a webhook receiver on 127.0.0.1 (cpp-httplib server) that
// records every POST it accepts, deduplicates by the Idempotency-Key
// header, and can answer 503 or 400 on request, or stop listening and come
// back on the same port. Waits are on conditions with deadlines.
#ifndef MH_TESTS_NOTIFY_WEBHOOK_RECEIVER_H_
#define MH_TESTS_NOTIFY_WEBHOOK_RECEIVER_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

namespace mh::notify {

class WebhookReceiver {
 public:
  enum class Mode { kAccept, kUnavailable, kReject };
  struct Request {
    std::string event_id;  // Idempotency-Key
    std::string authorization;
    std::string body;
  };

  ~WebhookReceiver() { Stop(); }

  // Listens on `port` (0: a free one); returns the port or -1.
  int Start(int port = 0) {
    server_ = std::make_unique<httplib::Server>();
    server_->set_socket_options([](int sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    server_->Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ++posts_;
      if (mode_ == Mode::kUnavailable) {
        ++refused_;
        res.status = 503;
        res.set_content("busy", "text/plain");
      } else if (mode_ == Mode::kReject) {
        ++refused_;
        res.status = 400;
        res.set_content("bad event", "text/plain");
      } else {
        Request r{req.get_header_value("Idempotency-Key"), req.get_header_value("Authorization"),
                  req.body};
        all_.push_back(r);
        unique_.emplace(r.event_id, r);  // keeps the first copy
        res.status = 204;
      }
      cv_.notify_all();
    });
    port_ = port == 0 ? server_->bind_to_any_port("127.0.0.1")
                      : (server_->bind_to_port("127.0.0.1", port) ? port : -1);
    if (port_ <= 0) return -1;
    httplib::Server* s = server_.get();
    thread_ = std::thread([s] { s->listen_after_bind(); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!s->is_running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    return s->is_running() ? port_ : -1;
  }

  void Stop() {
    if (server_ == nullptr) return;
    server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  void SetMode(Mode mode) {
    std::lock_guard lock(mu_);
    mode_ = mode;
  }

  // Waits until `pred` (called under the lock) holds or `timeout` passes.
  bool WaitFor(const std::function<bool()>& pred,
               std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, pred);
  }
  bool WaitForEvent(const std::string& event_id) {
    return WaitFor([&] { return unique_.count(event_id) > 0; });
  }
  bool WaitForRefused(int n) {
    return WaitFor([&] { return refused_ >= n; });
  }

  std::map<std::string, Request> unique() {
    std::lock_guard lock(mu_);
    return unique_;
  }
  std::vector<Request> all() {
    std::lock_guard lock(mu_);
    return all_;
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  Mode mode_ = Mode::kAccept;
  int posts_ = 0;
  int refused_ = 0;
  std::vector<Request> all_;
  std::map<std::string, Request> unique_;
};

}  // namespace mh::notify

#endif  // MH_TESTS_NOTIFY_WEBHOOK_RECEIVER_H_
