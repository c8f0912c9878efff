// Model sources from Azure Blob Storage against a real Azurite on loopback
// (started here; npm `azurite` pinned in tools/azurite), and the managed
// identity token provider against an identity endpoint served in-process.
// Nothing is sent outside 127.0.0.1: the IMDS address is MH_IMDS_ENDPOINT.
#include <atomic>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "app/command.h"
#include "blob/blob_client.h"
#include "blob/model_source.h"
#include "core/strings.h"
#include "identity/token_provider.h"
#include "iforest/model_io.h"
#include "iforest/sklearn_import.h"
#include "iforest/train.h"
#include "pipeline/model_reloader.h"
#include "testing/fake_environment.h"
#include "testing/server_process.h"
#include "testing/test_paths.h"
#include "testing/test_pki.h"

namespace mh {
namespace {

constexpr char kAccount[] = "devstoreaccount1";
constexpr char kKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
constexpr char kContainer[] = "models";
constexpr char kBlob[] = "prod/iforest_final.joblib";

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string SeedModelPath() { return testing::SharedDir() + "/data/seed/iforest_final.joblib"; }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A Shared Key signed PUT to Azurite (container create or block blob upload).
int SignedPut(httplib::Client& client, const std::string& path, const std::string& query_key,
              const std::string& query_value, const std::string& body, bool blob) {
  blob::SharedKeyRequest r;
  r.method = "PUT";
  r.account = kAccount;
  r.path = path;
  if (!query_key.empty()) r.query.emplace_back(query_key, query_value);
  const std::string date = blob::HttpDate(Now());
  r.ms_headers = {{"x-ms-date", date}, {"x-ms-version", blob::kStorageApiVersion}};
  if (blob) r.ms_headers.emplace_back("x-ms-blob-type", "BlockBlob");
  r.content_length = body.empty() ? "" : std::to_string(body.size());
  r.content_type = "application/octet-stream";
  auto auth = blob::SharedKeyAuthorization(r, kKey);
  if (!auth.ok()) return -1;
  httplib::Headers h;
  for (const auto& [n, v] : r.ms_headers) h.emplace(n, v);
  h.emplace("Authorization", *auth);
  std::string target = path + (query_key.empty() ? "" : "?" + query_key + "=" + query_value);
  auto res = client.Put(target, h, body, "application/octet-stream");
  return res ? res->status : -1;
}

class Azurite {
 public:
  // Starts azurite-blob (https with `cert`/`key` and --oauth basic when given).
  Status Start(const std::string& cert = "", const std::string& key = "",
               const std::string& ca = "") {
    const std::string program =
        testing::SourceDir() + "/tools/azurite/node_modules/.bin/azurite-blob";
    auto server =
        testing::ServerProcess::Create({"azurite-blob", "azurite (npm ci --prefix tools/azurite)",
                                        "the blob model-source tests", program});
    if (!server.ok()) return server.status();
    server_ = std::move(*server);
    std::vector<std::string> args = {"--blobHost",
                                     "127.0.0.1",
                                     "--blobPort",
                                     std::to_string(server_->port()),
                                     "--inMemoryPersistence",
                                     "--disableTelemetry",
                                     "--silent",
                                     "--skipApiVersionCheck"};
    https_ = !cert.empty();
    if (https_) {
      for (const char* a : {"--oauth", "basic", "--cert"}) args.emplace_back(a);
      args.push_back(cert);
      args.emplace_back("--key");
      args.push_back(key);
      ca_ = ca;
    }
    return server_->Start(args, [this] {
      auto c = Client();
      c->set_connection_timeout(0, 200000);
      auto res = c->Get("/");
      return static_cast<bool>(res);
    });
  }
  std::unique_ptr<httplib::Client> Client() const {
    auto c = std::make_unique<httplib::Client>(Origin());
    if (https_) c->set_ca_cert_path(ca_.c_str());
    return c;
  }
  std::string Origin() const {
    return std::string(https_ ? "https" : "http") +
           "://127.0.0.1:" + std::to_string(server_->port());
  }
  std::string Endpoint() const { return Origin() + "/" + kAccount; }

 private:
  std::unique_ptr<testing::ServerProcess> server_;
  bool https_ = false;
  std::string ca_;
};

bool AzuriteInstalled() {
  return std::filesystem::exists(testing::SourceDir() +
                                 "/tools/azurite/node_modules/.bin/azurite-blob");
}

#define MH_REQUIRE_AZURITE()                                                              \
  do {                                                                                    \
    MH_REQUIRE_SHARED_DATA();                                                             \
    if (!AzuriteInstalled())                                                              \
      GTEST_SKIP() << "azurite is not installed: tools/install-deps.sh test (needs npm) " \
                      "or npm ci --prefix tools/azurite";                                 \
  } while (0)

// Starts `azurite` and uploads the seed model with Shared Key; "" or the failure.
std::string StartAndUpload(Azurite& azurite, const std::string& bytes, const std::string& cert = "",
                           const std::string& key = "", const std::string& ca = "") {
  Status started = azurite.Start(cert, key, ca);
  if (!started.ok()) return started.ToString();
  auto c = azurite.Client();
  const std::string cpath = std::string("/") + kAccount + "/" + kContainer;
  if (int s = SignedPut(*c, cpath, "restype", "container", "", false); s != 201) {
    return "create container: http " + std::to_string(s);
  }
  if (int s = SignedPut(*c, cpath + "/" + kBlob, "", "", bytes, true); s != 201) {
    return "upload: http " + std::to_string(s);
  }
  return "";
}

class BlobTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (testing::SharedDir().empty() || !AzuriteInstalled()) return;
    azurite_ptr_ = new Azurite();
    bytes_ = ReadAll(SeedModelPath());
    setup_error_ = StartAndUpload(*azurite_ptr_, bytes_);
  }
  static void TearDownTestSuite() {
    delete azurite_ptr_;
    azurite_ptr_ = nullptr;
  }
  void SetUp() override {
    MH_REQUIRE_AZURITE();
    ASSERT_EQ(setup_error_, "");
    ASSERT_GT(bytes_.size(), 1000u);
    auto local = iforest::LoadAnyModel(SeedModelPath());
    ASSERT_TRUE(local.ok()) << local.status().ToString();
    local_ = std::move(*local);
  }

  // The loaded model is the seed's: same features, trees and scores.
  void ExpectSeedModel(const Result<iforest::Model>& m) {
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->feature_names, local_.feature_names);
    ASSERT_EQ(m->trees.size(), local_.trees.size());
    EXPECT_EQ(m->trees.front().feature, local_.trees.front().feature);
    EXPECT_EQ(m->offset, local_.offset);
  }

  blob::BlobOptions Options() {
    blob::BlobOptions o;
    o.env = env_.Get();
    return o;
  }

  static inline Azurite* azurite_ptr_ = nullptr;
  static inline std::string bytes_;
  static inline std::string setup_error_;
  iforest::Model local_;
  testing::FakeEnvironment env_;
};

TEST_F(BlobTest, AzUriWithAccountKey) {
  env_.vars["AZURE_STORAGE_BLOB_ENDPOINT"] = azurite_ptr_->Endpoint();
  env_.vars["AZURE_STORAGE_KEY"] = kKey;
  ExpectSeedModel(blob::LoadModelSource(
      std::string("az://") + kAccount + "/" + kContainer + "/" + kBlob, Options()));
}

TEST_F(BlobTest, ConnectionStringWithBlobEndpoint) {
  env_.vars["AZURE_STORAGE_CONNECTION_STRING"] =
      std::string("DefaultEndpointsProtocol=http;AccountName=") + kAccount + ";AccountKey=" + kKey +
      ";BlobEndpoint=" + azurite_ptr_->Endpoint() + ";";
  auto d = blob::DownloadSource(std::string("az://") + kAccount + "/" + kContainer + "/" + kBlob,
                                Options());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->auth, "shared-key");
  EXPECT_EQ(d->bytes, bytes_);
  EXPECT_FALSE(d->etag.empty());
}

TEST_F(BlobTest, PrototypeVariablesResolveToAzUri) {
  env_.vars["STORAGE_ACCOUNT_NAME"] = kAccount;
  env_.vars["MODEL_CONTAINER_NAME"] = kContainer;
  env_.vars["MODEL_FILE_PATH"] = kBlob;
  env_.vars["AZURE_STORAGE_BLOB_ENDPOINT"] = azurite_ptr_->Endpoint();
  env_.vars["AZURE_STORAGE_KEY"] = kKey;
  auto source = blob::ResolveModelSource("", env_.Get());
  ASSERT_TRUE(source.ok());
  EXPECT_EQ(*source, std::string("az://") + kAccount + "/" + kContainer + "/" + kBlob);
  ExpectSeedModel(blob::LoadModelSource(*source, Options()));
  env_.vars.erase("MODEL_FILE_PATH");
  auto partial = blob::ResolveModelSource("", env_.Get());
  ASSERT_FALSE(partial.ok());
  EXPECT_NE(partial.status().message().find("MODEL_FILE_PATH not set"), std::string::npos);
  EXPECT_EQ(*blob::ResolveModelSource("m.mhm", env_.Get()), "m.mhm");
}

TEST_F(BlobTest, ServiceSasUrl) {
  blob::ServiceSasRequest r;
  r.account = kAccount;
  r.container = kContainer;
  r.blob = kBlob;
  r.start = blob::IsoDate(Now() - 300);
  r.expiry = blob::IsoDate(Now() + 3600);
  auto sas = blob::MakeServiceSas(r, kKey);
  ASSERT_TRUE(sas.ok());
  const std::string url = azurite_ptr_->Endpoint() + "/" + kContainer + "/" + kBlob + "?" + *sas;
  auto d = blob::DownloadSource(url, Options());  // no key in the environment
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->auth, "sas");
  EXPECT_EQ(d->bytes, bytes_);
  EXPECT_EQ(d->shown.find("sig="), std::string::npos);
  ExpectSeedModel(blob::LoadModelSource(url, Options()));
  auto m = blob::LoadModelSource(url, Options());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->card.source.find("sig"), std::string::npos);
}

// Hot reload from a blob (--model-poll): a poll of an unchanged blob sends
// If-None-Match and downloads nothing (Azurite answers 304), with Shared Key
// (the conditional headers are signed) and with a SAS; a new blob uploaded
// is picked up once.
TEST_F(BlobTest, ReloadPollOfAnUnchangedBlobDownloadsNothing) {
  env_.vars["AZURE_STORAGE_BLOB_ENDPOINT"] = azurite_ptr_->Endpoint();
  env_.vars["AZURE_STORAGE_KEY"] = kKey;
  const std::string name = "reload/model.joblib";
  auto c = azurite_ptr_->Client();
  const std::string bpath = std::string("/") + kAccount + "/" + kContainer + "/" + name;
  ASSERT_EQ(SignedPut(*c, bpath, "", "", bytes_, true), 201);
  const std::string source = std::string("az://") + kAccount + "/" + kContainer + "/" + name;

  // The client: 304 for the ETag just seen, the bytes otherwise.
  auto first = blob::DownloadSource(source, Options());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_FALSE(first->etag.empty());
  EXPECT_FALSE(first->last_modified.empty());
  auto again = blob::DownloadSource(source, Options(), {first->etag, first->last_modified});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->not_modified);
  EXPECT_TRUE(again->bytes.empty());

  pipeline::ModelReloaderOptions o;
  o.source = source;
  o.blob = Options();
  auto r = pipeline::ModelReloader::Create(std::move(o));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->initial().provenance->sha256, blob::Sha256Hex(bytes_));
  using PollResult = pipeline::ModelReloader::PollResult;
  EXPECT_EQ((*r)->PollOnce(), PollResult::kUnchanged);
  EXPECT_EQ((*r)->PollOnce(), PollResult::kUnchanged);
  EXPECT_EQ((*r)->stats().downloads, 0);
  EXPECT_EQ((*r)->stats().unchanged, 2);

  // A new model with the seed's features, uploaded over the blob.
  iforest::Matrix x;
  x.rows = 200;
  x.cols = local_.feature_names.size();
  for (std::size_t i = 0; i < x.rows * x.cols; ++i) x.data.push_back(static_cast<double>(i % 17));
  iforest::TrainOptions t;
  t.n_estimators = 10;
  t.threads = 1;
  auto trained = iforest::Train(x, local_.feature_names, t);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  const std::string next_bytes = iforest::SerializeModel(*trained);
  ASSERT_EQ(SignedPut(*c, bpath, "", "", next_bytes, true), 201);
  EXPECT_EQ((*r)->PollOnce(), PollResult::kAccepted);
  EXPECT_EQ((*r)->stats().downloads, 1);
  auto next = (*r)->TakePending();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->provenance->version, blob::Sha256Hex(next_bytes).substr(0, 12));
  EXPECT_EQ((*r)->PollOnce(), PollResult::kUnchanged);
  EXPECT_EQ((*r)->stats().downloads, 1);

  // The same with a SAS URL (nothing to sign: the headers go as they are).
  blob::ServiceSasRequest sr;
  sr.account = kAccount;
  sr.container = kContainer;
  sr.blob = name;
  sr.start = blob::IsoDate(Now() - 300);
  sr.expiry = blob::IsoDate(Now() + 3600);
  auto sas = blob::MakeServiceSas(sr, kKey);
  ASSERT_TRUE(sas.ok());
  testing::FakeEnvironment bare;
  pipeline::ModelReloaderOptions so;
  so.source = azurite_ptr_->Endpoint() + "/" + kContainer + "/" + name + "?" + *sas;
  so.blob.env = bare.Get();
  auto rs = pipeline::ModelReloader::Create(std::move(so));
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ((*rs)->shown().find("sig="), std::string::npos);
  EXPECT_EQ((*rs)->PollOnce(), PollResult::kUnchanged);
  EXPECT_EQ((*rs)->stats().downloads, 0);
}

TEST_F(BlobTest, ExpiredSasFailsWithoutTheSignature) {
  blob::ServiceSasRequest r;
  r.account = kAccount;
  r.container = kContainer;
  r.blob = kBlob;
  r.start = blob::IsoDate(Now() - 7200);
  r.expiry = blob::IsoDate(Now() - 3600);
  auto sas = blob::MakeServiceSas(r, kKey);
  ASSERT_TRUE(sas.ok());
  const std::string sig = sas->substr(sas->find("sig=") + 4);
  auto m = blob::LoadModelSource(
      azurite_ptr_->Endpoint() + "/" + kContainer + "/" + kBlob + "?" + *sas, Options());
  ASSERT_FALSE(m.ok());
  const std::string msg = m.status().ToString();
  EXPECT_NE(msg.find("http 403"), std::string::npos) << msg;
  EXPECT_NE(msg.find("?<redacted>"), std::string::npos) << msg;
  EXPECT_EQ(msg.find(sig), std::string::npos) << msg;
  EXPECT_EQ(msg.find("se="), std::string::npos) << msg;
}

TEST_F(BlobTest, WrongKeyFailsWithoutTheKey) {
  std::string wrong;
  AppendBase64(std::string(64, 'x'), &wrong);
  env_.vars["AZURE_STORAGE_BLOB_ENDPOINT"] = azurite_ptr_->Endpoint();
  env_.vars["AZURE_STORAGE_KEY"] = wrong;
  auto m = blob::LoadModelSource(std::string("az://") + kAccount + "/" + kContainer + "/" + kBlob,
                                 Options());
  ASSERT_FALSE(m.ok());
  const std::string msg = m.status().ToString();
  EXPECT_NE(msg.find("http 403"), std::string::npos) << msg;
  EXPECT_NE(msg.find("shared-key"), std::string::npos) << msg;
  EXPECT_NE(msg.find("AuthorizationFailure"), std::string::npos) << msg;
  EXPECT_EQ(msg.find(wrong), std::string::npos) << msg;
  EXPECT_EQ(msg.find(wrong.substr(0, 16)), std::string::npos) << msg;
}

// The commands take the same sources: `model info az://...` with the
// process environment (the variables are set for this test only).
TEST_F(BlobTest, ModelInfoCommandLoadsFromAzUri) {
  ::setenv("AZURE_STORAGE_BLOB_ENDPOINT", azurite_ptr_->Endpoint().c_str(), 1);
  ::setenv("AZURE_STORAGE_KEY", kKey, 1);
  std::ostringstream out, err;
  app::CommandIo io{out, err};
  const int rc = app::RunMain(
      {"model", "info", std::string("az://") + kAccount + "/" + kContainer + "/" + kBlob}, io);
  ::unsetenv("AZURE_STORAGE_BLOB_ENDPOINT");
  ::unsetenv("AZURE_STORAGE_KEY");
  EXPECT_EQ(rc, 0) << err.str();
  EXPECT_NE(out.str().find(std::to_string(local_.trees.size())), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find(kKey), std::string::npos);
  EXPECT_EQ(err.str().find(kKey), std::string::npos);
}

// score without --model takes the prototype's three variables; with only
// some of them set it names the missing one.
TEST_F(BlobTest, ScoreCommandNamesMissingPrototypeVariables) {
  ::setenv("STORAGE_ACCOUNT_NAME", kAccount, 1);
  std::ostringstream out, err;
  app::CommandIo io{out, err};
  const int rc = app::RunMain({"score", "--input", "x.csv", "--out", "-"}, io);
  ::unsetenv("STORAGE_ACCOUNT_NAME");
  EXPECT_NE(rc, 0);
  EXPECT_NE(err.str().find("MODEL_CONTAINER_NAME, MODEL_FILE_PATH not set"), std::string::npos)
      << err.str();
}

TEST(BlobSourceTest, S3SchemeIsRefusedWithTheReason) {
  testing::FakeEnvironment env;
  blob::BlobOptions o;
  o.env = env.Get();
  auto d = blob::DownloadSource("s3://bucket/model.joblib?X-Amz-Signature=abc", o);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("presigned https:// URL"), std::string::npos);
  EXPECT_EQ(d.status().message().find("abc"), std::string::npos);
}

TEST(BlobSourceTest, ConnectionStringErrorsDoNotQuoteValues) {
  auto cs = blob::ParseConnectionString("AccountName=a;AccountKey");
  ASSERT_FALSE(cs.ok());
  auto ok = blob::ParseConnectionString(
      "AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows.net");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->blob_endpoint, "https://acct.blob.core.windows.net");
  EXPECT_EQ(ok->account_key, "a2V5");
}

// --- managed identity ------------------------------------------------------

std::string Base64Url(std::string_view bytes) {
  std::string b;
  AppendBase64(bytes, &b);
  for (char& c : b) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!b.empty() && b.back() == '=') b.pop_back();
  return b;
}

// A JWT as Entra ID would issue for `audience` (Azurite --oauth basic checks
// the claims, not the signature).
std::string MakeJwt(const std::string& audience, std::int64_t exp) {
  const std::string header = R"({"alg":"RS256","typ":"JWT"})";
  const std::string claims =
      R"({"aud":")" + audience +
      R"(","iss":"https://sts.windows.net/00000000-0000-0000-0000-000000000001/","iat":)" +
      std::to_string(Now() - 60) + R"(,"nbf":)" + std::to_string(Now() - 60) + R"(,"exp":)" +
      std::to_string(exp) + R"(,"oid":"11111111-2222-3333-4444-555555555555"})";
  return Base64Url(header) + "." + Base64Url(claims) + "." + Base64Url("not-a-signature");
}

// An identity endpoint on loopback answering as IDENTITY_ENDPOINT
// (/msi/token, X-IDENTITY-HEADER) and the VM metadata endpoint
// (/metadata/identity/oauth2/token, Metadata: true) do.
class IdentityEndpoint {
 public:
  static constexpr char kHeaderSecret[] = "identity-header-secret-3f9a";

  IdentityEndpoint() {
    auto answer = [this](const httplib::Request& req, httplib::Response& res, bool imds) {
      ++requests_;
      last_client_id_ = req.get_param_value("client_id");
      last_resource_ = req.get_param_value("resource");
      const std::string version = req.get_param_value("api-version");
      const bool authorised = imds ? req.get_header_value("Metadata") == "true"
                                   : req.get_header_value("X-IDENTITY-HEADER") == kHeaderSecret;
      if (!authorised || version != (imds ? "2018-02-01" : "2019-08-01")) {
        res.status = 400;
        res.set_content(R"({"error":"invalid_request"})", "application/json");
        return;
      }
      const std::int64_t exp = Now() + lifetime_;
      res.set_content(R"({"access_token":")" + MakeJwt(audience_, exp) + R"(","expires_on":")" +
                          std::to_string(exp) + R"(","resource":")" + last_resource_ +
                          R"(","token_type":"Bearer"})",
                      "application/json");
    };
    server_.Get("/msi/token",
                [answer](const httplib::Request& q, httplib::Response& r) { answer(q, r, false); });
    server_.Get("/metadata/identity/oauth2/token",
                [answer](const httplib::Request& q, httplib::Response& r) { answer(q, r, true); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~IdentityEndpoint() {
    server_.stop();
    thread_.join();
  }
  std::string Base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string AppServiceUrl() const { return Base() + "/msi/token"; }
  std::string ImdsUrl() const { return Base() + "/metadata/identity/oauth2/token"; }

  std::atomic<int> requests_{0};
  std::string last_client_id_, last_resource_;
  std::string audience_ = "https://storage.azure.com";
  std::int64_t lifetime_ = 3600;

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(TokenProviderTest, AppServiceTokenIsCachedAndRenewedBeforeExpiry) {
  IdentityEndpoint endpoint;
  testing::FakeEnvironment env;
  env.vars["IDENTITY_ENDPOINT"] = endpoint.AppServiceUrl();
  env.vars["IDENTITY_HEADER"] = IdentityEndpoint::kHeaderSecret;
  std::int64_t now = Now();
  identity::ManagedIdentityOptions options;
  options.now = [&now] { return now; };
  identity::ManagedIdentityCredential credential(env.Get(), options);
  auto a = credential.GetToken(identity::kStorageResource);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(endpoint.last_resource_, "https://storage.azure.com/");
  auto b = credential.GetToken(identity::kStorageResource);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->token, a->token);
  EXPECT_EQ(endpoint.requests_.load(), 1);
  // Another resource is another token.
  ASSERT_TRUE(credential.GetToken("https://myns.servicebus.windows.net").ok());
  EXPECT_EQ(endpoint.requests_.load(), 2);
  EXPECT_EQ(endpoint.last_resource_, "https://myns.servicebus.windows.net");
  // Within the refresh margin (300 s) of expiry: renewed.
  now = a->expires_on - 299;
  ASSERT_TRUE(credential.GetToken(identity::kStorageResource).ok());
  EXPECT_EQ(endpoint.requests_.load(), 3);
}

TEST(TokenProviderTest, ImdsAddressIsConfigurableAndTakesTheClientId) {
  IdentityEndpoint endpoint;
  testing::FakeEnvironment env;
  env.vars["MH_IMDS_ENDPOINT"] = endpoint.ImdsUrl();
  env.vars["AZURE_CLIENT_ID"] = "5a7e0c55-0000-4000-8000-00000000c11d";
  identity::ManagedIdentityCredential credential(env.Get());
  EXPECT_NE(credential.Describe().find("imds http://127.0.0.1:"), std::string::npos);
  auto t = credential.GetToken(identity::kStorageResource);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(endpoint.last_client_id_, "5a7e0c55-0000-4000-8000-00000000c11d");
  EXPECT_GT(t->expires_on, Now() + 3000);
}

TEST(TokenProviderTest, ImdsDefaultAddressIsTheMetadataEndpoint) {
  testing::FakeEnvironment env;  // nothing is requested here
  identity::ManagedIdentityCredential credential(env.Get());
  EXPECT_EQ(credential.Describe(),
            "managed identity (imds http://169.254.169.254/metadata/identity/oauth2/token)");
  EXPECT_EQ(credential.requests(), 0);
}

TEST(TokenProviderTest, RefusedRequestNamesTheErrorNotTheHeader) {
  IdentityEndpoint endpoint;
  testing::FakeEnvironment env;
  env.vars["IDENTITY_ENDPOINT"] = endpoint.AppServiceUrl();
  env.vars["IDENTITY_HEADER"] = "wrong-header-value-77";
  identity::ManagedIdentityCredential credential(env.Get());
  auto t = credential.GetToken(identity::kStorageResource);
  ASSERT_FALSE(t.ok());
  const std::string msg = t.status().ToString();
  EXPECT_NE(msg.find("http 400"), std::string::npos) << msg;
  EXPECT_NE(msg.find("invalid_request"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("wrong-header-value-77"), std::string::npos) << msg;
}

// Azurite over https with --oauth basic: the bearer token path end to end.
class ManagedIdentityBlobTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (testing::SharedDir().empty() || !AzuriteInstalled()) return;
    pki_ = testing::MakeTempDir("mh-blob-pki");
    if (Status s = testing::MakeTestPki(pki_); !s.ok()) {
      setup_error_ = s.ToString();
      return;
    }
    azurite_ = new Azurite();
    bytes_ = ReadAll(SeedModelPath());
    setup_error_ = StartAndUpload(*azurite_, bytes_, pki_ + "/server.crt", pki_ + "/server.key",
                                  pki_ + "/ca.crt");
  }
  static void TearDownTestSuite() {
    delete azurite_;
    azurite_ = nullptr;
    if (!pki_.empty()) std::filesystem::remove_all(pki_);
  }
  void SetUp() override {
    MH_REQUIRE_AZURITE();
    ASSERT_EQ(setup_error_, "");
    env_.vars["AZURE_STORAGE_BLOB_ENDPOINT"] = azurite_->Endpoint();
    env_.vars["IDENTITY_ENDPOINT"] = endpoint_.AppServiceUrl();
    env_.vars["IDENTITY_HEADER"] = IdentityEndpoint::kHeaderSecret;
  }
  blob::BlobOptions Options(std::shared_ptr<identity::TokenProvider> tokens) {
    blob::BlobOptions o;
    o.env = env_.Get();
    o.tokens = std::move(tokens);
    o.ca_file = pki_ + "/ca.crt";
    return o;
  }
  std::string Source() const {
    return std::string("az://") + kAccount + "/" + kContainer + "/" + kBlob;
  }

  static inline Azurite* azurite_ = nullptr;
  static inline std::string pki_, bytes_, setup_error_;
  IdentityEndpoint endpoint_;
  testing::FakeEnvironment env_;
};

TEST_F(ManagedIdentityBlobTest, TwoLoadsAskTheEndpointOnce) {
  auto tokens = std::make_shared<identity::ManagedIdentityCredential>(env_.Get());
  auto first = blob::DownloadSource(Source(), Options(tokens));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->auth, "managed-identity");
  EXPECT_EQ(first->bytes, bytes_);
  auto second = blob::LoadModelSource(Source(), Options(tokens));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto local = iforest::LoadAnyModel(SeedModelPath());
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(second->trees.size(), local->trees.size());
  EXPECT_EQ(second->feature_names, local->feature_names);
  EXPECT_EQ(endpoint_.requests_.load(), 1);
  EXPECT_EQ(endpoint_.last_resource_, "https://storage.azure.com/");
}

TEST_F(ManagedIdentityBlobTest, ATokenExpiringSoonIsRenewed) {
  endpoint_.lifetime_ = 120;  // inside the 300 s refresh margin
  auto tokens = std::make_shared<identity::ManagedIdentityCredential>(env_.Get());
  ASSERT_TRUE(blob::DownloadSource(Source(), Options(tokens)).ok());
  ASSERT_TRUE(blob::DownloadSource(Source(), Options(tokens)).ok());
  EXPECT_EQ(endpoint_.requests_.load(), 2);
}

TEST_F(ManagedIdentityBlobTest, WrongAudienceIsRefusedWithoutTheToken) {
  endpoint_.audience_ = "https://management.azure.com/";
  auto tokens = std::make_shared<identity::ManagedIdentityCredential>(env_.Get());
  auto token = tokens->GetToken(identity::kStorageResource);
  ASSERT_TRUE(token.ok());
  auto m = blob::LoadModelSource(Source(), Options(tokens));
  ASSERT_FALSE(m.ok());
  const std::string msg = m.status().ToString();
  EXPECT_NE(msg.find("http 403"), std::string::npos) << msg;
  EXPECT_NE(msg.find("managed-identity"), std::string::npos) << msg;
  EXPECT_EQ(msg.find(token->token.substr(0, 20)), std::string::npos) << msg;
  EXPECT_EQ(msg.find(IdentityEndpoint::kHeaderSecret), std::string::npos) << msg;
}

TEST_F(ManagedIdentityBlobTest, ImdsPathWithUserAssignedIdentity) {
  env_.vars.erase("IDENTITY_ENDPOINT");
  env_.vars.erase("IDENTITY_HEADER");
  env_.vars["MH_IMDS_ENDPOINT"] = endpoint_.ImdsUrl();
  env_.vars["AZURE_CLIENT_ID"] = "client-id-of-the-user-assigned-identity";
  auto tokens = std::make_shared<identity::ManagedIdentityCredential>(env_.Get());
  auto d = blob::DownloadSource(Source(), Options(tokens));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->bytes, bytes_);
  EXPECT_EQ(endpoint_.last_client_id_, "client-id-of-the-user-assigned-identity");
}

}  // namespace
}  // namespace mh
