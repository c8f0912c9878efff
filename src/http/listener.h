// Internal to http/: binding an httplib::Server and running its accept loop,
// shared by DashboardServer and MetricsServer.
#ifndef MH_HTTP_LISTENER_H_
#define MH_HTTP_LISTENER_H_

#include <string>
#include <thread>

#include <httplib.h>

#include "core/result.h"

namespace mh::http {

// "HOST:PORT", "[IPv6]:PORT" for IPv6 literals.
std::string HostPort(const std::string& host, int port);

// Binds `server` to host:port (0: a free ephemeral port) with SO_REUSEADDR
// only (httplib's default SO_REUSEPORT would let a second server bind a port
// in use), starts its accept loop on `*thread` and waits until it runs.
// Returns the bound port. InvalidArgument for a port outside [0, 65535];
// IOError "cannot listen on HOST:PORT: REASON" (the system's reason, e.g.
// "address already in use"); on that error no thread is left running.
Result<int> BindAndListen(httplib::Server& server, const std::string& host, int port,
                          std::thread* thread);

}  // namespace mh::http

#endif  // MH_HTTP_LISTENER_H_
