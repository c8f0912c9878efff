#include "http/listener.h"

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mh::http {
namespace {

// Why binding host:port fails, found by trying it ourselves (httplib only
// reports failure): "address already in use", "cannot assign requested
// address", "unknown host ...".
std::string BindFailureReason(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* result = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &result);
  if (rc != 0) return std::string("unknown host: ") + ::gai_strerror(rc);
  std::string reason = "bind failed";
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    int bound = ::bind(fd, ai->ai_addr, ai->ai_addrlen);
    int err = errno;
    bool listening = bound == 0 && ::listen(fd, 1) == 0;
    if (!listening && bound == 0) err = errno;
    ::close(fd);
    if (listening) continue;  // free now: it was taken only briefly
    reason = std::strerror(err);
    break;
  }
  ::freeaddrinfo(result);
  if (!reason.empty()) reason[0] = static_cast<char>(std::tolower(reason[0]));
  return reason;
}

}  // namespace

std::string HostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<int> BindAndListen(httplib::Server& server, const std::string& host, int port,
                          std::thread* thread) {
  if (port < 0 || port > 65535) {
    return Status::InvalidArgument("port " + std::to_string(port) + " is outside [0, 65535]");
  }
  server.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  int bound_port = port;
  bool bound;
  if (port == 0) {
    bound_port = server.bind_to_any_port(host);
    bound = bound_port > 0;
  } else {
    bound = server.bind_to_port(host, port);
  }
  if (!bound) {
    return Status::IOError("cannot listen on " + HostPort(host, port) + ": " +
                           BindFailureReason(host, port));
  }
  httplib::Server* s = &server;
  *thread = std::thread([s] { s->listen_after_bind(); });
  // Stop() before the loop runs would be lost (httplib ignores it), so wait
  // until the accept loop is up.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!server.is_running()) {
    server.stop();
    thread->join();
    return Status::IOError("cannot listen on " + HostPort(host, bound_port) +
                           ": server did not start");
  }
  return bound_port;
}

}  // namespace mh::http
