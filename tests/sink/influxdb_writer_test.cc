// Unit tests of the InfluxDB writer and sink against an in-process fake HTTP
// server on loopback (cpp-httplib): request shape (URL, headers, auth, gzip),
// classification of every kind of answer, secrets kept out of messages,
// keep-alive, metrics. The real servers are in influxdb_integration_test.cc.
#include "sink/influxdb/influxdb_writer.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "sink/influxdb/influxdb_sink.h"
#include "sink/influxdb/line_protocol.h"
#include "testing/process.h"
#include "testing/test_paths.h"

namespace mh::sink::influxdb {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "tok-SECRET-123==";
constexpr char kPassword[] = "pa55-w0rd-XYZ";

struct SeenRequest {
  std::string path;
  std::multimap<std::string, std::string> params;
  std::string body;  // decompressed by httplib when gzip
  std::string content_encoding;
  std::string authorization;
  std::string content_type;
  int remote_port = 0;
};

// A fake write endpoint answering what the test sets.
class FakeInfluxServer {
 public:
  FakeInfluxServer() {
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      std::unique_lock<std::mutex> lock(mutex_);
      SeenRequest seen;
      seen.path = req.path;
      for (const auto& [k, v] : req.params) seen.params.emplace(k, v);
      seen.body = req.body;
      seen.content_encoding = req.get_header_value("Content-Encoding");
      seen.authorization = req.get_header_value("Authorization");
      seen.content_type = req.get_header_value("Content-Type");
      seen.remote_port = req.remote_port;
      requests_.push_back(seen);
      if (hold_) {
        held_cv_.wait_for(lock, std::chrono::seconds(20), [this] { return !hold_; });
      }
      res.status = status_;
      if (!answer_.empty()) res.set_content(answer_, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would not stop it.
    EXPECT_TRUE(
        mh::testing::WaitUntil([this] { return server_.is_running(); }, std::chrono::seconds(10)));
  }
  ~FakeInfluxServer() {
    Release();
    server_.stop();
    thread_.join();
  }

  int port() const { return port_; }
  void Answer(int status, std::string body = "") {
    std::lock_guard<std::mutex> lock(mutex_);
    status_ = status;
    answer_ = std::move(body);
  }
  // Requests wait (up to 20 s) until Release().
  void Hold() {
    std::lock_guard<std::mutex> lock(mutex_);
    hold_ = true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      hold_ = false;
    }
    held_cv_.notify_all();
  }
  std::vector<SeenRequest> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable held_cv_;
  bool hold_ = false;
  int status_ = 204;
  std::string answer_;
  std::vector<SeenRequest> requests_;
};

InfluxdbConfig V1Config(int port) {
  InfluxdbConfig c;
  c.api = ApiVersion::kV1;
  c.host = "127.0.0.1";
  c.port = port;
  c.database = "iiot";
  c.gzip = false;
  c.timeout = std::chrono::milliseconds(5000);
  return c;
}

InfluxdbConfig V2Config(int port) {
  InfluxdbConfig c = V1Config(port);
  c.api = ApiVersion::kV2;
  c.database.clear();
  c.bucket = "iiot_rms";
  c.org = "acme";
  c.secret = kToken;
  return c;
}

std::unique_ptr<InfluxdbWriter> OpenWriter(const InfluxdbConfig& config) {
  Result<std::unique_ptr<InfluxdbWriter>> writer = InfluxdbWriter::Open(config);
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  return writer.ok() ? std::move(writer).value() : nullptr;
}

const std::string kBody = "m,t=a f=1 1\nm,t=b f=2 2\nm,t=c f=3 3\n";

void ExpectNoSecret(const Status& status) {
  EXPECT_THAT(status.message(), Not(HasSubstr(kToken)));
  EXPECT_THAT(status.message(), Not(HasSubstr(kPassword)));
}

TEST(InfluxdbWriterTest, V1RequestShape) {
  FakeInfluxServer server;
  InfluxdbConfig config = V1Config(server.port());
  config.retention_policy = "week";
  auto writer = OpenWriter(config);
  ASSERT_NE(writer, nullptr);
  Result<WriteResult> result = writer->Write(kBody);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->lines, 3u);
  EXPECT_EQ(result->rejected_points, 0u);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/write");
  EXPECT_EQ(requests[0].params.find("db")->second, "iiot");
  EXPECT_EQ(requests[0].params.find("rp")->second, "week");
  EXPECT_EQ(requests[0].params.find("precision")->second, "ns");
  EXPECT_EQ(requests[0].body, kBody);
  EXPECT_EQ(requests[0].content_encoding, "");
  EXPECT_EQ(requests[0].authorization, "");
  EXPECT_THAT(requests[0].content_type, HasSubstr("text/plain"));
  InfluxdbMetrics m = writer->metrics();
  EXPECT_EQ(m.requests, 1u);
  EXPECT_EQ(m.points_written, 3u);
  EXPECT_EQ(m.bytes_sent, kBody.size());
  EXPECT_EQ(m.rejected_points, 0u);
  EXPECT_EQ(m.failed_requests, 0u);
}

TEST(InfluxdbWriterTest, V1BasicAuth) {
  FakeInfluxServer server;
  InfluxdbConfig config = V1Config(server.port());
  config.user = "bob";
  config.secret = kPassword;
  auto writer = OpenWriter(config);
  ASSERT_TRUE(writer->Write(kBody).ok());
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  // base64("bob:pa55-w0rd-XYZ")
  EXPECT_EQ(requests[0].authorization, "Basic Ym9iOnBhNTUtdzByZC1YWVo=");
  // The password is not in the URL.
  for (const auto& [k, v] : requests[0].params) EXPECT_NE(v, kPassword) << k;
}

TEST(InfluxdbWriterTest, V2RequestShapeWithToken) {
  FakeInfluxServer server;
  auto writer = OpenWriter(V2Config(server.port()));
  ASSERT_TRUE(writer->Write(kBody).ok());
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/api/v2/write");
  EXPECT_EQ(requests[0].params.find("org")->second, "acme");
  EXPECT_EQ(requests[0].params.find("bucket")->second, "iiot_rms");
  EXPECT_EQ(requests[0].params.find("precision")->second, "ns");
  EXPECT_EQ(requests[0].authorization, std::string("Token ") + kToken);
  EXPECT_THAT(writer->description(), Not(HasSubstr(kToken)));
}

TEST(InfluxdbWriterTest, GzipBodies) {
  FakeInfluxServer server;
  InfluxdbConfig config = V1Config(server.port());
  config.gzip = true;
  auto writer = OpenWriter(config);
  std::string body;
  for (int i = 0; i < 2000; ++i) {
    body += "signal_features,device_id=m" + std::to_string(i % 4) + " rms=0." + std::to_string(i) +
            " " + std::to_string(1700000000000000000LL + i) + "\n";
  }
  ASSERT_TRUE(writer->Write(body).ok());
  ASSERT_TRUE(writer->Write(kBody).ok());  // the compressor is reused
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].content_encoding, "gzip");
  EXPECT_EQ(requests[0].body, body);  // httplib decompressed it: valid gzip
  EXPECT_EQ(requests[1].body, kBody);
  InfluxdbMetrics m = writer->metrics();
  EXPECT_EQ(m.points_written, 2003u);
  EXPECT_LT(m.bytes_sent, body.size() / 3);
}

TEST(InfluxdbWriterTest, KeepsOneConnection) {
  FakeInfluxServer server;
  auto writer = OpenWriter(V1Config(server.port()));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(writer->Write(kBody).ok());
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].remote_port, requests[1].remote_port);
  EXPECT_EQ(requests[1].remote_port, requests[2].remote_port);
}

TEST(InfluxdbWriterTest, EmptyBodySendsNothing) {
  FakeInfluxServer server;
  auto writer = OpenWriter(V1Config(server.port()));
  Result<WriteResult> result = writer->Write("");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->lines, 0u);
  EXPECT_TRUE(server.requests().empty());
  EXPECT_EQ(writer->metrics().requests, 0u);
}

TEST(InfluxdbWriterTest, PartialWriteIsAcceptedAndCounted) {
  FakeInfluxServer server;
  auto writer = OpenWriter(V1Config(server.port()));
  server.Answer(400,
                R"({"error":"partial write: field type conflict: input field \"f\" on measurement )"
                R"(\"m\" is type string, already exists as type float dropped=2"})");
  Result<WriteResult> result = writer->Write(kBody);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rejected_points, 2u);
  EXPECT_THAT(result->server_message, HasSubstr("field type conflict"));
  EXPECT_THAT(result->server_message, HasSubstr("\"f\""));  // JSON unescaped

  server.Answer(400,
                R"({"error":"partial write: unable to parse 'broken': missing fields\nunable to )"
                R"(parse 'also broken': invalid field format dropped=0"})");
  result = writer->Write(kBody);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->rejected_points, 2u);

  InfluxdbMetrics m = writer->metrics();
  EXPECT_EQ(m.requests, 2u);
  EXPECT_EQ(m.rejected_points, 4u);
  EXPECT_EQ(m.points_written, 2u);
  EXPECT_EQ(m.failed_requests, 0u);
}

struct AnswerCase {
  int status;
  std::string body;
  Status::Code code;
  std::string message;
};

TEST(InfluxdbWriterTest, AnswersAreClassified) {
  const std::vector<AnswerCase> cases = {
      {400, R"({"error":"unable to parse 'x': missing fields"})", Status::Code::kInvalidArgument,
       "unable to parse 'x'"},
      {401, R"({"error":"authorization failed"})", Status::Code::kInvalidArgument,
       "not authorised"},
      {403, "", Status::Code::kInvalidArgument, "not authorised"},
      {404, R"({"error":"database not found: \"iiot\""})", Status::Code::kNotFound,
       "database not found: \"iiot\""},
      {404, R"({"code":"not found","message":"bucket \"b\" not found"})", Status::Code::kNotFound,
       "bucket \"b\" not found"},
      {413, R"({"error":"Request Entity Too Large"})", Status::Code::kInvalidArgument, "too large"},
      {429, "", Status::Code::kUnavailable, "HTTP 429"},
      {500, R"({"error":"timeout"})", Status::Code::kUnavailable, "timeout"},
      {503, "", Status::Code::kUnavailable, "HTTP 503"},
      {500, R"({"error":"retention policy not found: norp"})", Status::Code::kNotFound,
       "retention policy not found"},
      {301, "", Status::Code::kInvalidArgument, "HTTP 301"},
      {422, "nope", Status::Code::kInvalidArgument, "nope"},
  };
  FakeInfluxServer server;
  auto writer = OpenWriter(V2Config(server.port()));
  for (const AnswerCase& c : cases) {
    server.Answer(c.status, c.body);
    Result<WriteResult> result = writer->Write(kBody);
    ASSERT_FALSE(result.ok()) << c.status;
    EXPECT_EQ(result.status().code(), c.code) << c.status << ": " << result.status().ToString();
    EXPECT_THAT(result.status().message(), HasSubstr(c.message)) << c.status;
    EXPECT_THAT(result.status().message(), HasSubstr("influxdb: http://127.0.0.1:"));
    ExpectNoSecret(result.status());
  }
  InfluxdbMetrics m = writer->metrics();
  EXPECT_EQ(m.requests, cases.size());
  EXPECT_EQ(m.failed_requests, cases.size());
  EXPECT_EQ(m.points_written, 0u);
}

TEST(InfluxdbWriterTest, EchoedSecretsAreBlanked) {
  FakeInfluxServer server;
  auto writer = OpenWriter(V2Config(server.port()));
  server.Answer(400, std::string(R"({"message":"bad token )") + kToken + R"("})");
  Result<WriteResult> result = writer->Write(kBody);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("bad token ***"));
  ExpectNoSecret(result.status());
  server.Answer(401, std::string(R"({"message":"token )") + kToken + R"( unknown"})");
  result = writer->Write(kBody);
  ASSERT_FALSE(result.ok());
  ExpectNoSecret(result.status());
}

TEST(InfluxdbWriterTest, NotAuthorisedHintsAtMissingToken) {
  FakeInfluxServer server;
  InfluxdbConfig config = V2Config(server.port());
  config.secret.clear();
  auto writer = OpenWriter(config);
  server.Answer(401, "");
  Result<WriteResult> result = writer->Write(kBody);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("INFLUXDB_TOKEN"));
  EXPECT_EQ(server.requests().at(0).authorization, "");
}

TEST(InfluxdbWriterTest, ConnectionRefusedIsUnavailable) {
  const int port = mh::testing::FreeTcpPort();
  ASSERT_FALSE(mh::testing::TcpPortOpen(port));
  auto writer = OpenWriter(V2Config(port));
  Result<WriteResult> result = writer->Write(kBody);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsUnavailable()) << result.status().ToString();
  ExpectNoSecret(result.status());
  EXPECT_EQ(writer->metrics().failed_requests, 1u);
  EXPECT_EQ(writer->metrics().bytes_sent, 0u);
}

TEST(InfluxdbWriterTest, SlowServerTimesOutAsUnavailable) {
  FakeInfluxServer server;
  InfluxdbConfig config = V1Config(server.port());
  config.timeout = std::chrono::milliseconds(300);
  auto writer = OpenWriter(config);
  server.Hold();
  const auto start = std::chrono::steady_clock::now();
  Result<WriteResult> result = writer->Write(kBody);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  server.Release();
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsUnavailable()) << result.status().ToString();
  EXPECT_THAT(result.status().message(), HasSubstr("timed out after 300 ms"));
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  EXPECT_LT(elapsed, std::chrono::seconds(3));
  // The next write works again (a new connection).
  EXPECT_TRUE(writer->Write(kBody).ok());
}

TEST(InfluxdbWriterTest, OpenChecksTheConfig) {
  InfluxdbConfig config = V1Config(8086);
  config.database.clear();
  EXPECT_TRUE(InfluxdbWriter::Open(config).status().IsInvalidArgument());
  config = V2Config(8086);
  config.org.clear();
  EXPECT_TRUE(InfluxdbWriter::Open(config).status().IsInvalidArgument());
  config = V1Config(0);
  EXPECT_TRUE(InfluxdbWriter::Open(config).status().IsInvalidArgument());
}

// --- HTTPS with the project's own CA (openssl CLI) ---

TEST(InfluxdbWriterTest, HttpsVerifiesTheServerWithTheGivenCa) {
  const std::string openssl = mh::testing::FindProgram("openssl");
  ASSERT_FALSE(openssl.empty()) << "openssl is not installed (apt-get install openssl)";
  const std::string dir = mh::testing::MakeTempDir("mh-influx-tls");
  ASSERT_FALSE(dir.empty());
  const std::string script =
      "cd '" + dir + "' && " + openssl +
      " req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out "
      "ca.pem -days 2 -subj /CN=mh-test-ca"
      " 2>/dev/null && " +
      openssl +
      " req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out "
      "server.csr -subj /CN=127.0.0.1"
      " 2>/dev/null && printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf && " +
      openssl +
      " x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem"
      " -days 2 -extfile ext.cnf 2>/dev/null";
  std::string out;
  ASSERT_EQ(mh::testing::RunCommand(script, &out), 0) << out;

  httplib::SSLServer server((dir + "/server.pem").c_str(), (dir + "/server.key").c_str());
  ASSERT_TRUE(server.is_valid());
  std::string seen_body;
  server.Post("/write", [&](const httplib::Request& req, httplib::Response& res) {
    seen_body = req.body;
    res.status = 204;
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  ASSERT_TRUE(
      mh::testing::WaitUntil([&] { return server.is_running(); }, std::chrono::seconds(10)));

  InfluxdbConfig config = V1Config(port);
  config.https = true;
  config.ca_file = dir + "/ca.pem";
  auto writer = OpenWriter(config);
  Result<WriteResult> ok = writer->Write(kBody);
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();

  // Without our CA the system store does not trust the server: refused, and
  // not as a retryable error.
  config.ca_file.clear();
  auto untrusting = OpenWriter(config);
  Result<WriteResult> refused = untrusting->Write(kBody);
  EXPECT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsInvalidArgument()) << refused.status().ToString();

  writer.reset();  // closes the keep-alive connection the server would wait on
  untrusting.reset();
  server.stop();
  thread.join();
  EXPECT_EQ(seen_body, kBody);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// --- The sink over the fake server ---

const auto kNames =
    std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"rms", "kurtosis"});

WindowRecord Record(const std::string& id, std::int64_t t, double score) {
  WindowRecord r;
  r.machine_id = id;
  r.window_start_ns = t;
  r.feature_names = kNames;
  r.features = {0.5, 3.0};
  r.score = score;
  r.score_samples = score - 0.5;
  r.anomaly = score < 0;
  r.threshold = 0;
  return r;
}

TEST(InfluxdbSinkTest, WritesTheBatchAsOneRequest) {
  FakeInfluxServer server;
  auto sink = OpenInfluxdbSink(V1Config(server.port()));
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  std::vector<WindowRecord> batch = {Record("m1", 1000, 0.25), Record("m2", 2000, -0.5)};
  batch[1].features = {NAN, NAN};  // its feature line is skipped
  ASSERT_TRUE((*sink)->Write(batch).ok());
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body,
            "anomaly_score,sensor_id=m1 score=0.25,score_samples=-0.25,anomaly=false,threshold=0 "
            "1000\n"
            "signal_features,device_id=m1 rms=0.5,kurtosis=3 1000\n"
            "anomaly_score,sensor_id=m2 score=-0.5,score_samples=-1,anomaly=true,threshold=0 "
            "2000\n");
  InfluxdbMetrics m = (*sink)->metrics();
  EXPECT_EQ(m.points_written, 3u);
  EXPECT_EQ(m.skipped_lines, 1u);
  EXPECT_EQ(m.requests, 1u);
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_EQ((*sink)->metrics().points_written, 3u);  // kept after Close
  Status after = (*sink)->Write(batch);
  EXPECT_TRUE(after.IsInternal()) << after.ToString();
}

TEST(InfluxdbSinkTest, InvalidRecordSendsNothing) {
  FakeInfluxServer server;
  auto sink = OpenInfluxdbSink(V1Config(server.port()));
  ASSERT_TRUE(sink.ok());
  std::vector<WindowRecord> batch = {Record("m1", 1000, 0.25), Record("", 2000, 0.5)};
  Status s = (*sink)->Write(batch);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("record 1"));
  EXPECT_TRUE(server.requests().empty());
}

TEST(InfluxdbSinkTest, ErrorsPassThrough) {
  FakeInfluxServer server;
  auto sink = OpenInfluxdbSink(V2Config(server.port()));
  ASSERT_TRUE(sink.ok());
  std::vector<WindowRecord> batch = {Record("m1", 1000, 0.25)};
  server.Answer(503, "");
  EXPECT_TRUE((*sink)->Write(batch).IsUnavailable());
  server.Answer(404, R"({"message":"bucket not found"})");
  EXPECT_TRUE((*sink)->Write(batch).IsNotFound());
  server.Answer(400, R"({"error":"partial write: x dropped=1"})");
  EXPECT_TRUE((*sink)->Write(batch).ok());
  EXPECT_EQ((*sink)->metrics().rejected_points, 1u);
  server.Answer(204, "");
  EXPECT_TRUE((*sink)->Write(batch).ok());
  EXPECT_EQ((*sink)->metrics().failed_requests, 2u);
}

}  // namespace
}  // namespace mh::sink::influxdb
