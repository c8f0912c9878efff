#include "testing/test_pki.h"

#include <filesystem>
#include <vector>

#include "core/result.h"
#include "testing/process.h"
#include "testing/test_paths.h"

namespace mh::testing {

Status MakeTestPki(const std::string& dir) {
  if (FindProgram("openssl").empty()) {
    return Status::NotFound(
        "openssl is not installed; the TLS tests need it (apt-get install openssl)");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());

  // EC P-256 keys (fast to make), 30 days.
  MH_RETURN_IF_ERROR(WriteFileText(dir + "/server.ext",
                                   "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                   "extendedKeyUsage=serverAuth\n"));
  MH_RETURN_IF_ERROR(WriteFileText(dir + "/client.ext", "extendedKeyUsage=clientAuth\n"));
  const std::string newkey = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::vector<std::string> steps = {
      "openssl req -x509 " + newkey + " -days 30 -subj '/CN=mh test CA' -keyout ca.key -out ca.crt",
      "openssl req " + newkey + " -subj /CN=localhost -keyout server.key -out server.csr",
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 "
      "-extfile server.ext -out server.crt",
      "openssl req " + newkey + " -subj /CN=edge-gw-1 -keyout client.key -out client.csr",
      "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 "
      "-extfile client.ext -out client.crt",
  };
  for (const std::string& step : steps) {
    std::string out;
    const int rc = RunCommand("cd " + ShellQuote(dir) + " && " + step + " >>pki.log 2>&1", &out);
    if (rc != 0) {
      return Status::IOError("making the test PKI failed (" + step +
                             "): " + ReadFileText(dir + "/pki.log"));
    }
  }
  return Status::OK();
}

}  // namespace mh::testing
