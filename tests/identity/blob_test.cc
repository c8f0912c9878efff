// Model sources from Azure Blob Storage against a real Azurite on loopback
// (started here; npm `azurite` pinned in tools/azurite), and the managed
// identity token provider against an identity endpoint served in-process.
// Nothing is sent outside 127.0.0.1: the IMDS address is MH_IMDS_ENDPOINT.
#include <atomic>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "blob/blob_client.h"
#include "blob/model_source.h"
#include "core/strings.h"
#include "identity/token_provider.h"
#include "iforest/sklearn_import.h"
#include "testing/fake_environment.h"
#include "testing/server_process.h"
#include "testing/test_paths.h"

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
  Status Start(const std::string& cert = "", const std::string& key = "") {
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
      ca_ = cert;
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
                           const std::string& key = "") {
  Status started = azurite.Start(cert, key);
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

}  // namespace
}  // namespace mh
