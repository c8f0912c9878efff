// The configuration file (`--config FILE`, app/config_file.h) and `config
// check`: precedence (file < environment < flag) seen through what a command
// does, errors naming file and line, sections of other commands, nested
// tables, masking, the example files of deploy/; and the JSON log format
// read back by a JSON parser. In-process through app::RunMain.
#include "app/config_file.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/command.h"
#include "core/strings.h"
#include "log/log.h"
#include "replay/event_json.h"
#include "score_cli_test.h"
#include "testing/cli_run.h"
#include "testing/test_paths.h"

namespace mh::app::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Sets an environment variable for the life of the object (unset before and after).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* n : {"MH_LOG_FORMAT", "MH_LOG_LEVEL", "FEATURE_KEYS", "INFLUXDB_URL",
                          "STORAGE_ACCOUNT_NAME", "BATCH_SIZE", "SENSOR_IDS"}) {
      ::unsetenv(n);
    }
    dir_ = mh::testing::MakeTempDir("mh-config-file");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    WriteAll(path, text);
    return path;
  }

  // A model of the features `features` computes from a sine on channel ax
  // and three waveform events of it (as in score_names_test.cc).
  void MakeModelAndEvents() {
    std::string csv = "ax\n";
    for (int i = 0; i < 64 * 40; ++i)
      csv += FormatDouble(std::sin(i * 0.7) + 0.01 * (i % 7)) + "\n";
    WriteAll(dir_ + "/samples.csv", csv);
    auto r =
        mh::testing::RunCli({"features", "--input", dir_ + "/samples.csv", "--fs", "1000",
                             "--channels", "ax", "--window", "64", "--out", dir_ + "/feats.csv"});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    r = mh::testing::RunCli(
        {"train", "--input", dir_ + "/feats.csv", "--trees", "20", "--out", dir_ + "/model.mhm"});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    std::string events;
    for (int e = 0; e < 3; ++e) {
      std::vector<std::vector<double>> samples(1);
      for (int i = 0; i < 64; ++i) samples[0].push_back(std::sin(i * 0.7));
      const std::vector<std::string> channels = {"ax"};
      replay::AppendWaveformEventJson({"s1", 1767225600.0 + e, 1000, channels, samples}, &events);
      events += "\n";
    }
    WriteAll(dir_ + "/events.jsonl", events);
  }

  std::string dir_;
};

// The JSON objects among `text`'s lines.
std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '{') continue;
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

bool HasJsonWarning(const std::string& text, const std::string& needle) {
  for (const nlohmann::json& j : JsonLines(text)) {
    if (j.value("level", "") == "warn" && j.value("component", "") == "score" &&
        j.value("message", "").find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST_F(ConfigFileTest, FileThenEnvironmentThenFlagInARealScoreRun) {
  MakeModelAndEvents();
  const std::string config = Write("mh.toml",
                                   "log-format = \"json\"\n"
                                   "[score]\n"
                                   "model = \"" +
                                       dir_ +
                                       "/model.mhm\"\n"
                                       "from = \"jsonl:" +
                                       dir_ +
                                       "/events.jsonl\"\n"
                                       "feature_names = \"prototype\"\n");
  const std::string warning = "--feature-names is deprecated";
  // The file alone: its score options and its log format apply.
  auto r = mh::testing::RunCli({"score", "--config", config, "--to", "jsonl:" + dir_ + "/a.jsonl"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(ReadAll(dir_ + "/a.jsonl"), HasSubstr("\"bandE0_200_ax\""));
  EXPECT_TRUE(HasJsonWarning(r.err, warning)) << r.err;
  {
    // The environment overrides the file...
    ScopedEnv env("MH_LOG_FORMAT", "text");
    r = mh::testing::RunCli({"--config", config, "score", "--to", "jsonl:" + dir_ + "/b.jsonl"});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    EXPECT_FALSE(HasJsonWarning(r.err, warning)) << r.err;
    EXPECT_THAT(r.err, HasSubstr(" warn score: " + warning));
    // ... and a flag overrides both.
    r = mh::testing::RunCli({"score", "--config", config, "--log-format", "json", "--feature-names",
                             "library", "--to", "jsonl:" + dir_ + "/c.jsonl"});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    EXPECT_TRUE(HasJsonWarning(r.err, warning)) << r.err;
    EXPECT_THAT(ReadAll(dir_ + "/c.jsonl"), HasSubstr("\"band_energy_0_200_ax\""));
    EXPECT_THAT(ReadAll(dir_ + "/c.jsonl"), Not(HasSubstr("bandE")));
  }
  // The log settings hold only while the command runs.
  EXPECT_EQ(log::GetFormat(), log::Format::kText);
}

TEST_F(ConfigFileTest, ConfigCheckShowsEnvironmentOverFileAndUnderscoreSpelling) {
  const std::string config = Write("mh.toml",
                                   "[score]\n"
                                   "features = \"rms,kurtosis\"\n"
                                   "linger_ms = 20\n"
                                   "[replay]\n"
                                   "batch = 10\n");
  auto r = mh::testing::RunCli({"config", "check", config});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("[score]\nfeatures = \"rms,kurtosis\"\n"));
  EXPECT_THAT(r.out, HasSubstr("linger-ms = 20\n"));
  EXPECT_THAT(r.out, HasSubstr("[replay]\nbatch = 10\n"));
  ScopedEnv keys("FEATURE_KEYS", "ax_rms");
  ScopedEnv batch("BATCH_SIZE", "7");
  ScopedEnv url("INFLUXDB_URL", "http://127.0.0.1:1");
  r = mh::testing::RunCli({"config", "check", config});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("features = \"ax_rms\"  # from FEATURE_KEYS"));
  EXPECT_THAT(r.out, Not(HasSubstr("rms,kurtosis")));
  EXPECT_THAT(r.out, HasSubstr("batch = 7  # from BATCH_SIZE"));
  EXPECT_THAT(r.out, HasSubstr("# to: taken from the environment (INFLUXDB_URL)"));
  // The printed configuration is TOML that config check accepts again.
  const std::string again = Write("again.toml", r.out);
  r = mh::testing::RunCli({"config", "check", again});
  EXPECT_EQ(r.code, kExitOk) << r.err;
}

TEST_F(ConfigFileTest, AFileValueDoesNotHideAVariableTheCommandReads) {
  // replay reads the prototype's SENSOR_IDS when --sensor-ids was not given:
  // a file value must not count as given.
  Write("in.csv", "timestamp,rms\n1,0.5\n2,0.6\n");
  const std::string config = Write("mh.toml", "[replay]\nsensor_ids = \"from-file\"\n");
  const std::vector<std::string> args = {
      "replay", "--config", config, "--input", dir_ + "/in.csv", "--to", "-", "--delay", "0"};
  auto r = mh::testing::RunCli(args);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"sensor_id\":\"from-file\""));
  ScopedEnv ids("SENSOR_IDS", "from-env");
  r = mh::testing::RunCli(args);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"sensor_id\":\"from-env\""));
  EXPECT_THAT(r.out, Not(HasSubstr("from-file")));
  std::vector<std::string> with_flag = args;
  with_flag.insert(with_flag.end(), {"--sensor-ids", "from-flag"});
  r = mh::testing::RunCli(with_flag);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"sensor_id\":\"from-flag\""));
  EXPECT_THAT(r.out, Not(HasSubstr("from-env")));
}

TEST_F(ConfigFileTest, UnknownKeyIsAnErrorNamingFileAndLine) {
  const std::string config = Write("mh.toml",
                                   "# comment\n"
                                   "[score]\n"
                                   "batch = 10\n"
                                   "modle = \"m.mhm\"\n");
  auto r = mh::testing::RunCli({"score", "--config", config, "--model", "m.mhm"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err,
              HasSubstr("machine-health: config " + config + ":4: [score] unknown key \"modle\""));
  // Unknown tables and top-level keys likewise.
  const std::string tables = Write("t.toml", "verbose = true\n[scor]\nbatch = 1\n");
  r = mh::testing::RunCli({"config", "check", tables});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr(tables + ":1: unknown key \"verbose\""));
  EXPECT_THAT(r.err, HasSubstr(tables + ":2: unknown table [scor]"));
  EXPECT_EQ(r.out, "");
}

TEST_F(ConfigFileTest, WrongTypesAreErrorsAndAllOfThemAreListed) {
  const std::string config = Write("mh.toml",
                                   "[score]\n"
                                   "batch = \"ten\"\n"
                                   "model = [\"a.mhm\", \"b.mhm\"]\n"
                                   "linger-ms = 70000\n"
                                   "to = [\"jsonl:a\", true]\n"
                                   "[run]\n"
                                   "healthy = \"yes\"\n"
                                   "machines = 2.5\n");
  auto r = mh::testing::RunCli({"config", "check", config});
  EXPECT_EQ(r.code, kExitUsage);
  const std::string at = "config " + config + ":";
  EXPECT_THAT(r.err, HasSubstr(at + "2: [score] batch: expected an integer, got a string"));
  EXPECT_THAT(r.err, HasSubstr(at + "3: [score] model: expected a string, got an array"));
  EXPECT_THAT(r.err, HasSubstr(at + "4: [score] linger-ms: "));  // the option's Range
  EXPECT_THAT(r.err,
              HasSubstr(at + "5: [score] to: expected a string in the array, got a boolean"));
  EXPECT_THAT(r.err, HasSubstr(at + "7: [run] healthy: expected a boolean, got a string"));
  EXPECT_THAT(r.err, HasSubstr(at + "8: [run] machines: expected an integer, got a float"));
  // In file order.
  EXPECT_LT(r.err.find(at + "2:"), r.err.find(at + "8:"));
}

TEST_F(ConfigFileTest, SyntaxErrorNamesLineAndColumn) {
  const std::string config = Write("mh.toml", "[score]\nbatch = 10\nmodel = \"unterminated\n");
  auto r = mh::testing::RunCli({"score", "--config", config});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, ::testing::ContainsRegex("config .*mh\\.toml:3:[0-9]+: "));
  r = mh::testing::RunCli({"score", "--config", dir_ + "/missing.toml"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("missing.toml"));
}

TEST_F(ConfigFileTest, AnOptionSpelledTwiceIsAnErrorNotAChoice) {
  // "model-poll" and "model_poll" are distinct TOML keys but one option.
  const std::string config =
      Write("mh.toml", "[score]\nmodel-poll = \"60s\"\nbatch = 10\nmodel_poll = \"30s\"\n");
  auto r = mh::testing::RunCli({"config", "check", config});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("mh.toml:4: [score] model-poll: given twice (also on line 2)"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("30s")));
}

TEST_F(ConfigFileTest, ASectionForAnotherCommandDoesNotTriggerIt) {
  MakeModelAndEvents();
  const std::string config = Write("mh.toml",
                                   "[run]\n"
                                   "machines = 3\n"
                                   "duration = \"1s\"\n"
                                   "http = \"off\"\n"
                                   "db = \"" +
                                       dir_ + "/run.db\"\n");
  // No command given: still "a command is required", run does not start.
  auto r = mh::testing::RunCli({"--config", config});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/run.db"));
  // Another command runs as usual, and run does not.
  r = mh::testing::RunCli({"model", "info", dir_ + "/model.mhm", "--config", config});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/run.db"));
  // The other command's keys are still checked.
  const std::string bad = Write("bad.toml", "[run]\nmachiens = 3\n");
  r = mh::testing::RunCli({"model", "info", dir_ + "/model.mhm", "--config", bad});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr(":2: [run] unknown key \"machiens\""));
}

TEST_F(ConfigFileTest, NestedTablesConfigureSubSubcommands) {
  MakeModelAndEvents();
  const std::string config = Write("mh.toml", "[model.info]\njson = true\n");
  auto r = mh::testing::RunCli({"--config", config, "model", "info", dir_ + "/model.mhm"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(nlohmann::json::accept(r.out)) << r.out;
  // Without the file: text.
  r = mh::testing::RunCli({"model", "info", dir_ + "/model.mhm"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_FALSE(nlohmann::json::accept(r.out)) << r.out;
  // A command's name as a key instead of a table, and an unknown nested table.
  const std::string bad = Write("bad.toml", "model = 1\n[baseline.retrian]\ndb = \"x.db\"\n");
  r = mh::testing::RunCli({"config", "check", bad});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr(":1: model: is a command"));
  EXPECT_THAT(r.err, HasSubstr(":2: unknown table [baseline.retrian]"));
}

TEST_F(ConfigFileTest, ConfigCheckMasksSecrets) {
  const std::string config =
      Write("mh.toml",
            "[score]\n"
            "model = \"https://acct.blob.core.windows.net/models/m.mhm?sv=2022&sig=SASSECRET\"\n"
            "to = [\"influxdb2://user:PASSSECRET@127.0.0.1:8086/b?org=o\"]\n"
            "dead-letter = \"DefaultEndpointsProtocol=https;AccountName=acct;"
            "AccountKey=KEYSECRET==;EndpointSuffix=core.windows.net\"\n");
  auto r = mh::testing::RunCli({"config", "check", config});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("SECRET")));
  EXPECT_THAT(r.out, HasSubstr("https://acct.blob.core.windows.net/models/m.mhm?***"));
  EXPECT_THAT(r.out, HasSubstr("influxdb2://***@127.0.0.1:8086/b?***"));
  EXPECT_THAT(r.out, HasSubstr("AccountName=acct;AccountKey=***;EndpointSuffix"));
  EXPECT_TRUE(IsSecretName("AZURE_STORAGE_CONNECTION_STRING"));
  EXPECT_TRUE(IsSecretName("account-key"));
  EXPECT_TRUE(IsSecretName("INFLUXDB_TOKEN"));
  EXPECT_FALSE(IsSecretName("feature-keys"));
  EXPECT_FALSE(IsSecretName("model"));
}

TEST_F(ConfigFileTest, EveryConfigFileInDeployPassesConfigCheck) {
  std::size_t checked = 0;
  const std::filesystem::path deploy = mh::testing::SourceDir() + "/deploy";
  for (const auto& e : std::filesystem::recursive_directory_iterator(deploy)) {
    if (e.path().extension() != ".toml") continue;
    // Machines files (docs/machines.md) are another format, checked by the registry's tests.
    if (e.path().filename().string().rfind("machines", 0) == 0) continue;
    auto r = mh::testing::RunCli({"config", "check", e.path().string()});
    EXPECT_EQ(r.code, kExitOk) << e.path() << "\n" << r.err;
    ++checked;
  }
  EXPECT_GE(checked, 1u);
  // The example covers score and run.
  auto r =
      mh::testing::RunCli({"config", "check", deploy.string() + "/config/machine-health.toml"});
  EXPECT_THAT(r.out, HasSubstr("\n[score]\n"));
  EXPECT_THAT(r.out, HasSubstr("\n[run]\n"));
}

TEST_F(ConfigFileTest, TheExampleInTheDocsPassesConfigCheck) {
  const std::string doc = ReadAll(mh::testing::SourceDir() + "/docs/configuration.md");
  const std::size_t begin = doc.find("```toml\n");
  ASSERT_NE(begin, std::string::npos);
  const std::size_t end = doc.find("```", begin + 8);
  ASSERT_NE(end, std::string::npos);
  const std::string config = Write("doc.toml", doc.substr(begin + 8, end - begin - 8));
  auto r = mh::testing::RunCli({"config", "check", config});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\n[model.info]\njson = true\n"));
}

TEST(LogFormatTest, JsonLinesParseBackWithEveryByteOfTheMessage) {
  const std::string message =
      std::string("say \"hi\"\nback\\slash \x01 nul:") + '\0' + " bad:\xff end \xc3\xa9";
  const std::string line =
      log::FormatLine(log::Format::kJson, 1795896651123000000, log::Level::kWarn, "run", message);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line
  const nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["time"], "2026-11-28T20:10:51.123Z");
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["component"], "run");
  EXPECT_EQ(j["message"], std::string("say \"hi\"\nback\\slash \x01 nul:") + '\0' +
                              " bad:\xef\xbf\xbd end \xc3\xa9");
  EXPECT_THAT(line, HasSubstr("\\u0000"));
  EXPECT_THAT(line, HasSubstr("\\u0001"));
  // Text stays as it was.
  EXPECT_EQ(
      log::FormatLine(log::Format::kText, 1795896651123000000, log::Level::kInfo, "run", "hello"),
      "2026-11-28T20:10:51.123Z info run: hello\n");
}

TEST(LogFormatTest, WriteUsesTheFormatFromAnyThread) {
  log::SetFormat(log::Format::kJson);
  ::testing::internal::CaptureStderr();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 50; ++i) log::Info("test", "thread " + std::to_string(t));
    });
  }
  for (std::thread& t : threads) t.join();
  const std::string out = ::testing::internal::GetCapturedStderr();
  log::SetFormat(log::Format::kText);
  const std::vector<nlohmann::json> lines = JsonLines(out);
  EXPECT_EQ(lines.size(), 200u);
  for (const nlohmann::json& j : lines) EXPECT_EQ(j["component"], "test");
}

TEST(LogFormatTest, LevelAndFormatOptionsRefuseOtherValues) {
  auto r = mh::testing::RunCli({"--log-format", "xml", "config", "check", "x.toml"});
  EXPECT_EQ(r.code, kExitUsage);
  r = mh::testing::RunCli({"--log-level", "loud", "config", "check", "x.toml"});
  EXPECT_EQ(r.code, kExitUsage);
}

}  // namespace
}  // namespace mh::app::test
