// Test-only: a throw-away mosquitto broker for integration tests and
// benchmarks. Create() makes, in a fresh temp dir, a PKI with openssl (a CA,
// a server certificate for localhost/127.0.0.1, a client certificate), a
// password file with one user (hashed by mosquitto_passwd), and a config with
// persistence (autosave every second, 100,000 queued messages per session)
// and three listeners on free 127.0.0.1 ports:
//   plain_port()  anonymous, no TLS
//   tls_port()    TLS + user/password
//   mtls_port()   TLS + client certificate (its CN is the user name)
// then starts `mosquitto -c` and waits until every port accepts.
// Stop() (SIGTERM: the broker saves its persistence) and Start() again
// restart it on the same ports with the same data; Kill() is SIGKILL.
// The broker's log is <dir>/mosquitto.log.
//
// Lifecycle: the destructor stops the broker and removes the temp dir (kept
// when env MH_KEEP_TEST_DIRS is set). Not thread-safe: one test thread.
#ifndef MH_TESTING_MOSQUITTO_SERVICE_H_
#define MH_TESTING_MOSQUITTO_SERVICE_H_

#include <memory>
#include <string>

#include "core/result.h"
#include "testing/process.h"

namespace mh::testing {

class MosquittoService {
 public:
  struct Options {
    // Broker option set_tcp_nodelay (default false in mosquitto 2.0: the
    // broker's small PUBACKs then wait for Nagle, up to ~40 ms at the end of
    // each burst).
    bool tcp_nodelay = false;
  };

  // NotFound (with the Debian packages to install) when mosquitto,
  // mosquitto_passwd or openssl is missing; IOError/Unavailable when the PKI
  // cannot be made or the broker does not come up (with its log's tail).
  static Result<std::unique_ptr<MosquittoService>> Create(const Options& options);
  static Result<std::unique_ptr<MosquittoService>> Create() { return Create(Options()); }
  ~MosquittoService();
  MosquittoService(const MosquittoService&) = delete;
  MosquittoService& operator=(const MosquittoService&) = delete;

  // Starts the broker (again) and waits until all ports accept, up to 10 s.
  Status Start();
  // SIGTERM and wait for a clean exit (persistence written).
  Status Stop();
  // SIGKILL (no final save; autosave_interval is 1 s).
  void Kill();
  bool Running();

  int plain_port() const { return plain_port_; }
  int tls_port() const { return tls_port_; }
  int mtls_port() const { return mtls_port_; }
  const std::string& dir() const { return dir_; }
  std::string ca_file() const { return dir_ + "/pki/ca.crt"; }
  // Client certificate and key for mtls_port(); user name "edge-gw-1".
  std::string client_cert_file() const { return dir_ + "/pki/client.crt"; }
  std::string client_key_file() const { return dir_ + "/pki/client.key"; }
  // The password-file user of tls_port() (test-only credentials).
  std::string user() const { return "health-svc"; }
  std::string password() const { return "test-pass-7f3a"; }
  std::string log_path() const { return dir_ + "/mosquitto.log"; }
  // The last `bytes` of the broker log (for failure messages).
  std::string LogTail(std::size_t bytes = 2000) const;

 private:
  MosquittoService() = default;
  Status Prepare();

  Options options_;

  std::string dir_;
  int plain_port_ = 0;
  int tls_port_ = 0;
  int mtls_port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace mh::testing

#endif  // MH_TESTING_MOSQUITTO_SERVICE_H_
