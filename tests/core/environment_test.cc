// Tests of core/environment.h: the secret-file rules every configuration
// (Kafka, Event Hubs, MQTT, InfluxDB) shares, and the real file reader.
#include "core/environment.h"

#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "testing/fake_environment.h"
#include "testing/test_paths.h"

namespace mh {
namespace {

constexpr char kSecret[] = "pa55 w0rd-9q";

TEST(ReadSecretFileTest, TrailingWhitespaceIsNotPartOfTheSecret) {
  testing::FakeEnvironment fake;
  fake.files["/lf"] = std::string(kSecret) + "\n";
  fake.files["/crlf"] = std::string(kSecret) + "\r\n";
  fake.files["/spaces"] = std::string(kSecret) + " \t\n\n";
  fake.files["/bare"] = kSecret;
  fake.files["/leading"] = std::string(" ") + kSecret;
  const Environment env = fake.Get();
  for (const char* path : {"/lf", "/crlf", "/spaces", "/bare"}) {
    Result<std::string> secret = ReadSecretFile(env, "token_file", path);
    ASSERT_TRUE(secret.ok()) << path << ": " << secret.status().ToString();
    EXPECT_EQ(*secret, kSecret) << path;
  }
  // Leading whitespace is kept: only what editors append is dropped.
  EXPECT_EQ(ReadSecretFile(env, "token_file", "/leading").value(), std::string(" ") + kSecret);
}

TEST(ReadSecretFileTest, ErrorsNameOptionAndPathButNeverTheContents) {
  testing::FakeEnvironment fake;
  fake.files["/empty"] = " \r\n";
  fake.files["/two"] = std::string(kSecret) + "\nsecond line\n";
  const Environment env = fake.Get();

  const Status empty_path = ReadSecretFile(env, "password_file", "").status();
  EXPECT_TRUE(empty_path.IsInvalidArgument());
  EXPECT_EQ(empty_path.message(), "password_file is empty");

  const Status blank = ReadSecretFile(env, "password_file", "/empty").status();
  EXPECT_TRUE(blank.IsInvalidArgument());
  EXPECT_NE(blank.message().find("password_file '/empty' is empty"), std::string::npos);

  const Status two = ReadSecretFile(env, "password_file", "/two").status();
  EXPECT_TRUE(two.IsInvalidArgument());
  EXPECT_NE(two.message().find("more than one line"), std::string::npos);
  EXPECT_EQ(two.ToString().find(kSecret), std::string::npos) << two.ToString();

  const Status missing = ReadSecretFile(env, "password_file", "/nope").status();
  EXPECT_TRUE(missing.IsIOError()) << missing.ToString();  // what the fake's reader says
  EXPECT_NE(missing.message().find("password_file: cannot read '/nope'"), std::string::npos)
      << missing.message();
}

TEST(ProcessEnvironmentTest, ReadsRealFilesAndTellsAbsentFromUnreadable) {
  const std::string dir = testing::MakeTempDir("mh-env");
  ASSERT_FALSE(dir.empty());
  const std::string path = dir + "/secret";
  {
    std::ofstream out(path, std::ios::binary);
    out << kSecret << "\n";
  }
  const Environment env = ProcessEnvironment();
  EXPECT_EQ(ReadSecretFile(env, "token_file", path).value(), kSecret);

  const Status absent = env.read_file(dir + "/absent").status();
  EXPECT_TRUE(absent.IsNotFound()) << absent.ToString();
  EXPECT_NE(absent.message().find(dir + "/absent"), std::string::npos);
  // A directory opens but cannot be read as a file: not "not found".
  const Status directory = env.read_file(dir).status();
  EXPECT_FALSE(directory.ok());
  EXPECT_FALSE(directory.IsNotFound()) << directory.ToString();

  std::remove(path.c_str());
  std::remove(dir.c_str());
}

TEST(ProcessEnvironmentTest, GetEnvTellsUnsetFromEmpty) {
  const Environment env = ProcessEnvironment();
  ASSERT_EQ(::setenv("MH_ENVIRONMENT_TEST_VAR", "", 1), 0);
  EXPECT_EQ(env.get_env("MH_ENVIRONMENT_TEST_VAR"), std::optional<std::string>(""));
  ASSERT_EQ(::unsetenv("MH_ENVIRONMENT_TEST_VAR"), 0);
  EXPECT_EQ(env.get_env("MH_ENVIRONMENT_TEST_VAR"), std::nullopt);
}

}  // namespace
}  // namespace mh
