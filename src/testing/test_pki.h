// Test-only: a throw-away PKI made with the openssl CLI, for TLS tests against
// real servers (mosquitto, VictoriaMetrics). MakeTestPki(dir) creates `dir`
// (and parents) and writes into it, all EC P-256, valid 30 days:
//   ca.crt, ca.key          a self-signed CA ("mh test CA")
//   server.crt, server.key  CN=localhost, SAN DNS:localhost and IP:127.0.0.1,
//                           serverAuth, signed by the CA
//   client.crt, client.key  CN=edge-gw-1, clientAuth, signed by the CA
// plus the CSRs, extension files and pki.log (openssl's output). Keys are
// unencrypted. No system trust store trusts this CA.
//
// Thread safety: reentrant for different dirs.
#ifndef MH_TESTING_TEST_PKI_H_
#define MH_TESTING_TEST_PKI_H_

#include <string>

#include "core/status.h"

namespace mh::testing {

// NotFound (with the Debian package to install) when openssl is missing;
// IOError with openssl's output when a step fails or `dir` cannot be made.
Status MakeTestPki(const std::string& dir);

}  // namespace mh::testing

#endif  // MH_TESTING_TEST_PKI_H_
