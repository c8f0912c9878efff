// Issue 18, deployment files: every file in deploy/ parses, and every
// machine-health command line and environment variable in the Dockerfile,
// docker-compose.yml, the Container Apps YAML, the Bicep file and the systemd
// units is accepted by the real CLI and the real address/credential parsers,
// so that the files cannot rot when an option changes. Independent checkers:
// Python's yaml (python3-yaml), systemd-analyze, apt-cache, ldd/dpkg -S; a
// container engine only where one runs (skipped with the reason otherwise).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "app/command.h"
#include "blob/model_source.h"
#include "core/environment.h"
#include "core/strings.h"
#include "core/uri.h"
#include "sink/influxdb/influxdb_config.h"
#include "testing/cli_run.h"
#include "testing/process.h"
#include "testing/test_paths.h"
#include "transport/kafka/kafka_config.h"

namespace mh {
namespace {

namespace fs = std::filesystem;
using Env = std::map<std::string, std::string>;

bool HasPrefix(std::string_view text, std::string_view prefix) { return text.starts_with(prefix); }

std::string Deploy(const std::string& rel) { return testing::SourceDir() + "/deploy/" + rel; }

// Runs `command` with /bin/sh; stdout and stderr together in *output.
int Shell(const std::string& command, std::string* output) {
  output->clear();  // RunCommand appends
  return testing::RunCommand(command + " 2>&1", output);
}

// Every document of a YAML file as JSON, read by Python's yaml.safe_load_all.
nlohmann::json YamlToJson(const std::string& path) {
  std::string out;
  const int rc = testing::RunCommand(
      testing::ReferencePython() +
          " -c 'import json,sys,yaml; json.dump(list(yaml.safe_load_all(open(sys.argv[1]))), "
          "sys.stdout)' " +
          testing::ShellQuote(path) + " 2>&1",
      &out);
  EXPECT_EQ(rc, 0) << path << ": " << out;
  if (rc != 0) return nlohmann::json::array();
  return nlohmann::json::parse(out);
}

// An Environment with exactly `vars`; every secret file reads as one line.
Environment FakeEnv(const Env& vars) {
  Environment env;
  env.get_env = [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  env.read_file = [](const std::string&) -> Result<std::string> {
    return std::string("secret-from-file\n");
  };
  return env;
}

// The value after `flag` in `args` ("" when absent).
std::string FlagValue(const std::vector<std::string>& args, const std::string& flag) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == flag) return args[i + 1];
  }
  return "";
}

std::vector<std::string> FlagValues(const std::vector<std::string>& args, const std::string& flag) {
  std::vector<std::string> values;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == flag) values.push_back(args[i + 1]);
  }
  return values;
}

std::string Describe(const std::vector<std::string>& args) {
  std::string s = "machine-health";
  for (const auto& a : args) s += " " + a;
  return s;
}

// A transport address accepted by the real parser for `role`.
void ExpectTransport(const std::string& address, transport::kafka::ClientRole role,
                     const Environment& env, const std::string& where) {
  Result<Uri> uri = ParseUri(address);
  ASSERT_TRUE(uri.ok()) << where << ": " << address << ": " << uri.status().message();
  if (uri->scheme == "kafka" || uri->scheme == "eventhubs") {
    auto config = transport::kafka::BuildKafkaConfig(*uri, role, env);
    EXPECT_TRUE(config.ok()) << where << ": " << address << ": " << config.status().message();
  } else {
    ADD_FAILURE() << where << ": no check for address scheme '" << uri->scheme << "'";
  }
}

// Names of the environment variables the binary reads: string literals in
// src/ outside tests and the test-only library.
const std::string& SourceText() {
  static const std::string* text = [] {
    auto* all = new std::string;
    for (const auto& entry : fs::recursive_directory_iterator(testing::SourceDir() + "/src")) {
      const std::string path = entry.path().string();
      if (!entry.is_regular_file()) continue;
      if (path.find("/src/testing/") != std::string::npos) continue;
      if (EndsWith(path, "_test.cc")) continue;
      if (!EndsWith(path, ".cc") && !EndsWith(path, ".h")) continue;
      *all += testing::ReadFileText(path);
    }
    return all;
  }();
  return *text;
}

void ExpectEnvNamesRead(const Env& env, const std::string& where) {
  for (const auto& [name, value] : env) {
    EXPECT_NE(SourceText().find("\"" + name + "\""), std::string::npos)
        << where << ": environment variable " << name << " is read nowhere in src/";
  }
}

// The whole check of one machine-health command line with its environment:
// the CLI accepts it, and the addresses, the model source and the credentials
// in the environment pass the parsers the command uses when it runs.
void ExpectAccepted(const std::vector<std::string>& args, const Env& vars,
                    const std::string& where) {
  SCOPED_TRACE(where + ": " + Describe(args));
  ASSERT_FALSE(args.empty());
  std::ostringstream out, err;
  app::CommandIo io{out, err};
  EXPECT_EQ(app::CheckCommandLine(args, io), app::kExitOk) << err.str();
  ExpectEnvNamesRead(vars, where);
  const Environment env = FakeEnv(vars);
  using transport::kafka::ClientRole;
  const std::string& command = args[0];
  if (command == "score" || command == "run") {
    const std::string from = FlagValue(args, "--from");
    if (!from.empty()) ExpectTransport(from, ClientRole::kSubscriber, env, where);
  }
  if (command == "score") {
    Result<std::string> model = blob::ResolveModelSource(FlagValue(args, "--model"), env);
    ASSERT_TRUE(model.ok()) << model.status().message();
    EXPECT_FALSE(model->empty()) << "no --model and no STORAGE_ACCOUNT_NAME etc.";
    for (const std::string& to : FlagValues(args, "--to")) {
      Result<Uri> uri = ParseUri(to);
      ASSERT_TRUE(uri.ok()) << to << ": " << uri.status().message();
      if (HasPrefix(uri->scheme, "influxdb")) {
        Result<sink::influxdb::InfluxdbConfig> config = sink::influxdb::ConfigFromUri(*uri, env);
        EXPECT_TRUE(config.ok()) << to << ": " << config.status().message();
        if (config.ok() && config->api == sink::influxdb::ApiVersion::kV2) {
          EXPECT_FALSE(config->secret.empty()) << to << ": no token (INFLUXDB_TOKEN, token_file)";
        }
      } else {
        ExpectTransport(to, ClientRole::kPublisher, env, where);
      }
    }
  }
  if (command == "replay") {
    for (const std::string& to : FlagValues(args, "--to")) {
      ExpectTransport(to, ClientRole::kPublisher, env, where);
    }
  }
}

// `args` of a `run` command line with the store in `dir` and the dashboard on
// 127.0.0.1:`port`: the same options otherwise.
std::vector<std::string> LocalRun(std::vector<std::string> args, const std::string& dir, int port) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--db") args[i + 1] = dir + "/" + fs::path(args[i + 1]).filename().string();
    if (args[i] == "--http") args[i + 1] = "127.0.0.1:" + std::to_string(port);
  }
  return args;
}

// Starts the real binary with `args`; waits for its dashboard line.
std::unique_ptr<testing::ChildProcess> StartBinary(const std::vector<std::string>& args,
                                                   const std::string& dir) {
  std::vector<std::string> argv = {testing::BinaryPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto child = testing::ChildProcess::Start(argv, dir + "/log.txt");
  EXPECT_TRUE(child.ok()) << child.status().message();
  if (!child.ok()) return nullptr;
  const std::string url = testing::WaitForLogLine(**child, "dashboard: ", std::chrono::seconds(60));
  EXPECT_FALSE(url.empty()) << testing::ReadFileText(dir + "/log.txt");
  return std::move(*child);
}

// --- every file parses -------------------------------------------------------

std::vector<std::string> DeployFiles(const std::string& extension) {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(Deploy(""))) {
    if (entry.is_regular_file() && entry.path().extension() == extension) {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(DeployFilesTest, EveryYamlJsonAndTomlFileParses) {
  std::vector<std::string> yaml = DeployFiles(".yaml"), yml = DeployFiles(".yml");
  yaml.insert(yaml.end(), yml.begin(), yml.end());
  EXPECT_GE(yaml.size(), 4u);  // compose, container app, two Grafana provisioning files
  for (const auto& path : yaml) {
    nlohmann::json docs = YamlToJson(path);
    ASSERT_TRUE(docs.is_array()) << path;
    EXPECT_FALSE(docs.empty()) << path;
    for (const auto& doc : docs) EXPECT_TRUE(doc.is_object()) << path << ": not a mapping";
  }
  const auto json_files = DeployFiles(".json");
  EXPECT_GE(json_files.size(), 5u);  // the Grafana dashboards
  for (const auto& path : json_files) {
    nlohmann::json doc = nlohmann::json::parse(testing::ReadFileText(path), nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << path;
  }
  const auto toml_files = DeployFiles(".toml");
  EXPECT_GE(toml_files.size(), 1u);
  for (const auto& path : toml_files) {
    // Debian's toml++ is built with exceptions: a syntax error throws.
    try {
      toml::table table = toml::parse_file(path);
      EXPECT_FALSE(table.empty()) << path;
    } catch (const toml::parse_error& e) {
      ADD_FAILURE() << path << ": " << e.description() << " at line " << e.source().begin.line;
    }
  }
}

// A YAML parser that accepted anything would make the test above pass.
TEST(DeployFilesTest, YamlCheckerRejectsBrokenYaml) {
  const std::string dir = testing::MakeTempDir("mh-deploy-yaml");
  ASSERT_TRUE(testing::WriteFileText(dir + "/bad.yaml", "a: [1, 2\nb: }\n").ok());
  std::string out;
  EXPECT_NE(testing::RunCommand(testing::ReferencePython() +
                                    " -c 'import sys,yaml; yaml.safe_load(open(sys.argv[1]))' " +
                                    dir + "/bad.yaml 2>&1",
                                &out),
            0);
  fs::remove_all(dir);
}

// The check itself must fail on what a rotten file would hold.
TEST(DeployFilesTest, CommandLineCheckRejectsUnknownOptionsAndBadValues) {
  std::ostringstream out, err;
  app::CommandIo io{out, err};
  EXPECT_EQ(app::CheckCommandLine({"score", "--from", "kafka://k:9092/t?group=g", "--bogus"}, io),
            app::kExitUsage);
  EXPECT_EQ(app::CheckCommandLine({"score", "--batch", "0"}, io), app::kExitUsage);
  EXPECT_EQ(app::CheckCommandLine({"nosuchcommand"}, io), app::kExitUsage);
  EXPECT_EQ(app::CheckCommandLine({"serve", "--db", "x.db"}, io), app::kExitOk);
  // An address the parser refuses, and a variable the binary does not read.
  Result<Uri> bad = ParseUri("eventhubs:?group=g");
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(transport::kafka::BuildKafkaConfig(*bad, transport::kafka::ClientRole::kSubscriber,
                                                  FakeEnv({}))
                   .ok());
  EXPECT_EQ(SourceText().find("\"EVENT_HUB_NAMESPACE\""), std::string::npos);
  EXPECT_NE(SourceText().find("\"EVENT_HUB_NAMESPACE_FQDN\""), std::string::npos);
}

// --- Dockerfile --------------------------------------------------------------

struct Instruction {
  std::string keyword;  // upper case
  std::string args;
};

// Instructions of a Dockerfile: comments dropped, continuation lines joined.
std::vector<Instruction> ParseDockerfile(const std::string& text) {
  std::vector<Instruction> out;
  std::istringstream in(text);
  std::string line, joined;
  while (std::getline(in, line)) {
    std::string_view t = TrimSpace(line);
    if (joined.empty() && (t.empty() || t.front() == '#')) continue;
    if (!t.empty() && t.back() == '\\') {
      joined += std::string(t.substr(0, t.size() - 1)) + " ";
      continue;
    }
    if (!t.empty() && t.front() == '#') continue;  // a comment inside a RUN
    joined += std::string(t);
    const std::size_t space = joined.find(' ');
    Instruction ins{joined.substr(0, space),
                    space == std::string::npos ? "" : std::string(TrimSpace(joined.substr(space)))};
    for (char& c : ins.keyword) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out.push_back(ins);
    joined.clear();
  }
  return out;
}

// The packages `apt-get install` installs in `run` (options dropped).
std::vector<std::string> AptInstalled(const std::string& run) {
  std::vector<std::string> pkgs;
  const std::size_t at = run.find("apt-get install");
  if (at == std::string::npos) return pkgs;
  std::istringstream words(run.substr(at + std::string("apt-get install").size()));
  std::string w;
  while (words >> w) {
    if (w == "&&" || w == ";") break;
    if (w.front() == '-') continue;
    pkgs.push_back(w);
  }
  return pkgs;
}

struct DockerImage {
  std::vector<Instruction> build, runtime;
};

DockerImage LoadDockerfile() {
  DockerImage image;
  int stage = -1;
  for (const auto& ins : ParseDockerfile(testing::ReadFileText(Deploy("docker/Dockerfile")))) {
    if (ins.keyword == "FROM") ++stage;
    if (stage == 0) image.build.push_back(ins);
    if (stage == 1) image.runtime.push_back(ins);
    EXPECT_LE(stage, 1) << "more than two stages";
  }
  return image;
}

std::optional<std::string> Find(const std::vector<Instruction>& stage, const std::string& kw) {
  std::optional<std::string> found;
  for (const auto& ins : stage) {
    if (ins.keyword == kw) found = ins.args;  // the last one counts
  }
  return found;
}

std::vector<std::string> JsonArray(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  EXPECT_TRUE(j.is_array()) << "not an exec-form (JSON array): " << text;
  if (!j.is_array()) return {};
  return j.get<std::vector<std::string>>();
}

TEST(DockerfileTest, StagesUserHealthcheckAndCommand) {
  const DockerImage image = LoadDockerfile();
  ASSERT_FALSE(image.build.empty());
  ASSERT_FALSE(image.runtime.empty());
  EXPECT_THAT(image.build.front().args, ::testing::MatchesRegex("debian:12(\\.[0-9]+)? AS build"));
  EXPECT_THAT(image.runtime.front().args, ::testing::MatchesRegex("debian:12(\\.[0-9]+)?"));
  std::string build_runs;
  for (const auto& ins : image.build) {
    if (ins.keyword == "RUN") build_runs += ins.args + "\n";
  }
  EXPECT_THAT(build_runs, ::testing::HasSubstr("sh tools/install-deps.sh build"));
  EXPECT_THAT(build_runs, ::testing::HasSubstr("-DCMAKE_BUILD_TYPE=Release"));

  // Not root, by name or number.
  const auto user = Find(image.runtime, "USER");
  ASSERT_TRUE(user.has_value()) << "the final stage sets no USER (runs as root)";
  const std::string name = user->substr(0, user->find(':'));
  EXPECT_NE(name, "root");
  EXPECT_NE(name, "0");

  const auto entrypoint = Find(image.runtime, "ENTRYPOINT");
  ASSERT_TRUE(entrypoint.has_value());
  EXPECT_EQ(JsonArray(*entrypoint), std::vector<std::string>{"machine-health"});
  const auto cmd = Find(image.runtime, "CMD");
  ASSERT_TRUE(cmd.has_value());
  const std::vector<std::string> args = JsonArray(*cmd);
  ExpectAccepted(args, {}, "Dockerfile CMD");

  // The health check asks /healthz on the port the default command listens on.
  const auto health = Find(image.runtime, "HEALTHCHECK");
  ASSERT_TRUE(health.has_value());
  const std::string http = FlagValue(args, "--http");
  ASSERT_FALSE(http.empty());
  const std::string port = http.substr(http.rfind(':') + 1);
  EXPECT_THAT(*health, ::testing::HasSubstr("127.0.0.1:" + port + "/healthz"));
  // The store is in the volume.
  const auto volume = Find(image.runtime, "VOLUME");
  ASSERT_TRUE(volume.has_value());
  const std::string db = FlagValue(args, "--db");
  bool in_volume = false;
  for (const auto& v : JsonArray(*volume)) {
    if (HasPrefix(db, v + "/")) in_volume = true;
  }
  EXPECT_TRUE(in_volume) << "--db " << db << " is not in a VOLUME";
}

// The default command for real, and the image's health check against it: the
// check's own command (curl) with the port the test gave. SIGTERM (the
// image's STOPSIGNAL) stops it cleanly.
TEST(DockerfileTest, DefaultCommandRunsAndPassesTheHealthCheck) {
  const DockerImage image = LoadDockerfile();
  const auto cmd = Find(image.runtime, "CMD");
  const auto health = Find(image.runtime, "HEALTHCHECK");
  ASSERT_TRUE(cmd.has_value() && health.has_value());
  const std::size_t at = health->find("CMD [");
  ASSERT_NE(at, std::string::npos) << "HEALTHCHECK is not in exec form: " << *health;
  std::vector<std::string> check = JsonArray(health->substr(at + 4));
  ASSERT_FALSE(check.empty());
  if (testing::FindProgram(check[0]).empty()) GTEST_SKIP() << check[0] << " not found";
  const std::vector<std::string> args = JsonArray(*cmd);
  const std::string http = FlagValue(args, "--http");
  const std::string image_address = "127.0.0.1:" + http.substr(http.rfind(':') + 1);

  const std::string dir = testing::MakeTempDir("mh-deploy-docker-run");
  const int port = testing::FreeTcpPort();
  std::string shell_check;
  for (std::string word : check) {
    if (const std::size_t p = word.find(image_address); p != std::string::npos) {
      word.replace(p, image_address.size(), "127.0.0.1:" + std::to_string(port));
    }
    shell_check += testing::ShellQuote(word) + " ";
  }
  std::string out;
  EXPECT_NE(Shell(shell_check, &out), 0) << "the check passes with nothing listening";
  auto child = StartBinary(LocalRun(args, dir, port), dir);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(Shell(shell_check, &out), 0) << out;
  EXPECT_EQ(child->Stop(), 0) << testing::ReadFileText(dir + "/log.txt");
  EXPECT_TRUE(fs::exists(dir + "/" + fs::path(FlagValue(args, "--db")).filename().string()));
  fs::remove_all(dir);
}

std::vector<std::string> RuntimePackages() {
  std::vector<std::string> pkgs;
  for (const auto& ins : LoadDockerfile().runtime) {
    if (ins.keyword != "RUN") continue;
    for (const auto& p : AptInstalled(ins.args)) pkgs.push_back(p);
  }
  return pkgs;
}

// The final stage installs the packages owning every library the binary
// links (DT_NEEDED, found with ldd, owner by dpkg -S): derived again from
// the binary built here, so a new dependency cannot be forgotten.
TEST(DockerfileTest, RuntimeStageHasThePackagesOfEveryLinkedLibrary) {
  const std::string binary = testing::BinaryPath();
  ASSERT_FALSE(binary.empty()) << "MH_BINARY not set";
  if (testing::FindProgram("dpkg").empty() || testing::FindProgram("objdump").empty()) {
    GTEST_SKIP() << "dpkg or objdump not found: cannot map libraries to packages";
  }
  std::string needed_text, ldd_text;
  ASSERT_EQ(testing::RunCommand(
                "objdump -p " + testing::ShellQuote(binary) + " | awk '/NEEDED/ {print $2}'",
                &needed_text),
            0);
  ASSERT_EQ(testing::RunCommand("ldd " + testing::ShellQuote(binary), &ldd_text), 0);
  std::map<std::string, std::string> path_of;  // soname -> path
  std::istringstream ldd(ldd_text);
  std::string line;
  std::regex arrow(R"(^\s*(\S+) => (\S+))");
  while (std::getline(ldd, line)) {
    std::smatch m;
    if (std::regex_search(line, m, arrow)) path_of[m[1]] = m[2];
  }
  const std::vector<std::string> pkgs = RuntimePackages();
  const std::set<std::string> listed(pkgs.begin(), pkgs.end());
  // One dpkg -S for every library, by the path ldd found and by its real path
  // (usr-merged systems register some under /lib, others under /usr/lib).
  std::vector<std::string> sonames;
  std::string query = "dpkg -S";
  std::istringstream needed(needed_text);
  for (std::string soname; needed >> soname;) {
    // A sanitizer build links its runtime; the image is a Release build.
    if (soname.starts_with("libasan") || soname.starts_with("libubsan") ||
        soname.starts_with("libtsan") || soname.starts_with("liblsan")) {
      continue;
    }
    ASSERT_TRUE(path_of.count(soname)) << soname << " not resolved by ldd";
    sonames.push_back(soname);
    query += " " + testing::ShellQuote(path_of[soname]) + " " +
             testing::ShellQuote(fs::canonical(path_of[soname]).string());
  }
  std::string owners_text;
  testing::RunCommand(query + " 2>/dev/null", &owners_text);  // exit 1: some path unknown
  std::map<std::string, std::string> package_of;              // path -> package
  std::istringstream owners(owners_text);
  std::regex owner_line(R"(^([^:\s]+)(?::\S+)?: (\S+)$)");
  while (std::getline(owners, line)) {
    std::smatch m;
    if (std::regex_match(line, m, owner_line)) package_of[m[2]] = m[1];
  }
  int checked = 0;
  for (const std::string& soname : sonames) {
    std::string package = package_of[path_of[soname]];
    if (package.empty()) package = package_of[fs::canonical(path_of[soname]).string()];
    ASSERT_FALSE(package.empty()) << soname << " (" << path_of[soname] << "): no package owns it";
    EXPECT_TRUE(listed.count(package))
        << soname << " (" << path_of[soname] << ") is in package " << package
        << ", which deploy/docker/Dockerfile's final stage does not install";
    ++checked;
  }
  EXPECT_GE(checked, 10);
  for (const auto& p : pkgs) EXPECT_FALSE(EndsWith(p, "-dev")) << p << " in the runtime stage";
}

TEST(DockerfileTest, RuntimePackagesExistInDebian) {
  if (testing::FindProgram("apt-cache").empty()) GTEST_SKIP() << "apt-cache not found";
  std::string out;
  if (testing::RunCommand("apt-cache show --no-all-versions libc6 >/dev/null 2>&1", &out) != 0) {
    GTEST_SKIP() << "apt-cache has no package lists (apt-get update not run)";
  }
  const std::vector<std::string> pkgs = RuntimePackages();
  EXPECT_GE(pkgs.size(), 15u);
  // One apt-cache call: it prints the record of each package it knows (and
  // exits non-zero when one is unknown).
  std::string query = "apt-cache show --no-all-versions";
  for (const auto& p : pkgs) query += " " + testing::ShellQuote(p);
  testing::RunCommand(query + " 2>/dev/null", &out);
  std::set<std::string> known;
  std::istringstream records(out);
  for (std::string line; std::getline(records, line);) {
    if (line.rfind("Package: ", 0) == 0) known.insert(line.substr(9));
  }
  for (const auto& p : pkgs) EXPECT_TRUE(known.count(p)) << p << " is not a Debian package here";
  // and the checker fails on a name Debian does not have
  EXPECT_NE(Shell("apt-cache show --no-all-versions libmachine-health-nosuch >/dev/null", &out), 0);
}

TEST(DockerfileTest, BuildsWhereAContainerEngineRuns) {
  std::string out, engine, why = "no docker or podman client";
  for (const char* candidate : {"docker", "podman"}) {
    if (testing::FindProgram(candidate).empty()) continue;
    if (Shell(std::string(candidate) + " info", &out) == 0) {
      engine = candidate;
      break;
    }
    const std::string_view said = TrimSpace(out);
    const std::size_t nl = said.rfind('\n');
    why = std::string(candidate) + " has no engine to talk to (" +
          std::string(said.substr(nl == std::string_view::npos ? 0 : nl + 1)) + ")";
  }
  if (engine.empty()) GTEST_SKIP() << why << ": the Dockerfile is checked statically only";
  ASSERT_EQ(Shell("cd " + testing::ShellQuote(testing::SourceDir()) + " && " + engine +
                      " build -q -f deploy/docker/Dockerfile -t machine-health:test .",
                  &out),
            0)
      << out;
  EXPECT_EQ(Shell(engine + " run --rm machine-health:test --version", &out), 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("machine-health"));
  EXPECT_EQ(Shell(engine + " run --rm --entrypoint id machine-health:test -u", &out), 0) << out;
  EXPECT_NE(TrimSpace(out), "0") << "the image runs as root";
}

// --- docker-compose.yml ------------------------------------------------------

nlohmann::json Compose() {
  nlohmann::json docs = YamlToJson(Deploy("compose/docker-compose.yml"));
  EXPECT_EQ(docs.size(), 1u);
  return docs.empty() ? nlohmann::json::object() : docs[0];
}

bool IsOurImage(const nlohmann::json& service) {
  return HasPrefix(service.value("image", ""), "machine-health:");
}

Env EnvOf(const nlohmann::json& service) {
  Env env;
  if (!service.contains("environment")) return env;
  const auto& e = service["environment"];
  if (e.is_object()) {
    for (const auto& [k, v] : e.items()) env[k] = v.is_string() ? v.get<std::string>() : v.dump();
  } else {
    for (const auto& item : e) {
      const std::string s = item.get<std::string>();
      env[s.substr(0, s.find('='))] =
          s.find('=') == std::string::npos ? "" : s.substr(s.find('=') + 1);
    }
  }
  return env;
}

TEST(ComposeTest, ServicesImagesAndMounts) {
  const nlohmann::json compose = Compose();
  ASSERT_TRUE(compose.contains("services"));
  const auto& services = compose["services"];
  for (const char* name :
       {"kafka", "influxdb", "influxdb-init", "grafana", "prometheus", "scorer", "replay"}) {
    EXPECT_TRUE(services.contains(name)) << "no service " << name;
  }
  const std::string dir = Deploy("compose");
  for (const auto& [name, service] : services.items()) {
    SCOPED_TRACE("service " + name);
    const std::string image = service.value("image", "");
    ASSERT_FALSE(image.empty());
    // Pinned: a tag that is not "latest".
    const std::size_t colon = image.rfind(':');
    ASSERT_NE(colon, std::string::npos) << image << " has no tag";
    EXPECT_NE(image.substr(colon + 1), "latest");
    if (service.contains("depends_on")) {
      for (const auto& [dep, cond] : service["depends_on"].items()) {
        EXPECT_TRUE(services.contains(dep)) << "depends on unknown " << dep;
      }
    }
    if (IsOurImage(service)) {
      ASSERT_TRUE(service.contains("build"));
      const std::string context = dir + "/" + service["build"].value("context", "");
      EXPECT_TRUE(fs::exists(context + "/" + service["build"].value("dockerfile", "")));
    }
    for (const auto& v : service.value("volumes", nlohmann::json::array())) {
      const std::string spec = v.get<std::string>();
      if (!HasPrefix(spec, "../")) continue;  // named volumes, ${MH_SEED_DIR}
      const std::string host = spec.substr(0, spec.find(':'));
      EXPECT_TRUE(fs::exists(dir + "/" + host)) << spec;
    }
  }
  // InfluxDB gets deploy/influxdb's retention file; Grafana the provisioning.
  const auto& init = services["influxdb-init"];
  EXPECT_THAT(init["entrypoint"].dump(), ::testing::HasSubstr("q@/iql/influxdb1-retention.iql"));
  EXPECT_THAT(init["volumes"].dump(), ::testing::HasSubstr("../influxdb:/iql"));
  EXPECT_TRUE(fs::exists(Deploy("influxdb/influxdb1-retention.iql")));
  EXPECT_THAT(services["grafana"]["volumes"].dump(),
              ::testing::HasSubstr("../grafana/provisioning:/etc/grafana/provisioning"));
  // Each dashboard provider's folder is mounted from deploy/grafana/dashboards.
  nlohmann::json providers =
      YamlToJson(Deploy("grafana/provisioning/dashboards/machine-health.yaml"));
  ASSERT_EQ(providers.size(), 1u);
  for (const auto& provider : providers[0]["providers"]) {
    const std::string path = provider["options"]["path"];
    std::string host;  // the mount with the longest container path holding `path` wins
    std::size_t longest = 0;
    for (const auto& v : services["grafana"]["volumes"]) {
      const std::vector<std::string> parts = Split(v.get<std::string>(), ':');
      if (parts.size() < 2 || parts[1].size() <= longest) continue;
      if (path == parts[1] || HasPrefix(path, parts[1] + "/")) {
        longest = parts[1].size();
        host =
            HasPrefix(parts[0], "../") ? dir + "/" + parts[0] + path.substr(parts[1].size()) : "";
      }
    }
    ASSERT_FALSE(host.empty()) << "grafana: no volume holds " << path;
    int dashboards = 0;
    for (const auto& f : fs::directory_iterator(host))
      dashboards += f.path().extension() == ".json";
    EXPECT_GE(dashboards, 1) << host;
  }
  // The variables the provisioned InfluxQL data source reads are set.
  std::string datasources;  // without its comments
  std::istringstream provisioning(
      testing::ReadFileText(Deploy("grafana/provisioning/datasources/machine-health.yaml")));
  for (std::string line; std::getline(provisioning, line);) {
    if (!TrimSpace(line).starts_with("#")) datasources += line + "\n";
  }
  const Env grafana_env = EnvOf(services["grafana"]);
  std::regex var(R"(\$\{([A-Z0-9_]+)\})");
  for (std::sregex_iterator it(datasources.begin(), datasources.end(), var), end; it != end; ++it) {
    EXPECT_TRUE(grafana_env.count((*it)[1])) << "grafana: " << (*it)[1] << " not set";
  }
}

std::vector<std::string> CommandOf(const nlohmann::json& service) {
  if (!service.contains("command")) return {};
  return service["command"].get<std::vector<std::string>>();
}

// Prometheus (for Grafana's Prometheus dashboard) scrapes the scorer on its
// --metrics-listen port; Grafana's Prometheus data source points at it.
TEST(ComposeTest, PrometheusScrapesTheScorer) {
  const nlohmann::json compose = Compose();
  const auto& services = compose["services"];
  EXPECT_THAT(services["prometheus"]["volumes"].dump(),
              ::testing::HasSubstr("../prometheus/prometheus.yml:/etc/prometheus/prometheus.yml"));
  const std::string listen = FlagValue(CommandOf(services["scorer"]), "--metrics-listen");
  ASSERT_NE(listen.rfind(':'), std::string::npos) << listen;
  nlohmann::json config = YamlToJson(Deploy("prometheus/prometheus.yml"));
  ASSERT_EQ(config.size(), 1u);
  EXPECT_EQ(config[0]["scrape_configs"][0]["static_configs"][0]["targets"][0],
            "scorer" + listen.substr(listen.rfind(':')));
  EXPECT_EQ(EnvOf(services["grafana"])["MH_PROMETHEUS_URL"], "http://prometheus:9090");
}

TEST(ComposeTest, EveryMachineHealthCommandIsAccepted) {
  const nlohmann::json compose = Compose();
  int checked = 0;
  for (const auto& [name, service] : compose["services"].items()) {
    if (!IsOurImage(service) || service.contains("entrypoint")) continue;
    ExpectAccepted(CommandOf(service), EnvOf(service), "compose service " + name);
    ++checked;
  }
  EXPECT_EQ(checked, 2);  // scorer, replay
}

// The compose pipeline for real, with files instead of Kafka and InfluxDB:
// the replay service's command over the seed CSV, then the scorer's command
// with the seed model over what replay sent. Every event gets a score.
TEST(ComposeTest, ReplayAndScorerCommandsRunOnTheSeedData) {
  MH_REQUIRE_SHARED_DATA();
  const nlohmann::json compose = Compose();
  const auto& services = compose["services"];
  const std::string dir = testing::MakeTempDir("mh-deploy-compose");
  const std::string seed = testing::SharedDir() + "/data/seed";

  std::vector<std::string> replay = CommandOf(services["replay"]);
  for (std::size_t i = 0; i + 1 < replay.size(); ++i) {
    if (replay[i] == "--input") {
      ASSERT_TRUE(HasPrefix(replay[i + 1], "/data/"));
      replay[i + 1] = seed + replay[i + 1].substr(5);
    }
    if (replay[i] == "--to") replay[i + 1] = "jsonl:" + dir + "/events.jsonl";
  }
  replay.insert(replay.end(), {"--limit", "40"});
  testing::CliRun r = testing::RunCli(replay);
  ASSERT_EQ(r.code, 0) << r.err;

  std::vector<std::string> score = CommandOf(services["scorer"]);
  for (std::size_t i = 0; i + 1 < score.size(); ++i) {
    if (score[i] == "--model") {
      ASSERT_TRUE(HasPrefix(score[i + 1], "/data/"));
      score[i + 1] = seed + score[i + 1].substr(5);
    }
    if (score[i] == "--from") score[i + 1] = "jsonl:" + dir + "/events.jsonl";
    if (score[i] == "--to") score[i + 1] = "jsonl:" + dir + "/scores.jsonl";
    if (score[i] == "--metrics-listen") {
      // The container's health check asks that port for /healthz.
      const std::string port = score[i + 1].substr(score[i + 1].rfind(':') + 1);
      EXPECT_THAT(services["scorer"]["healthcheck"]["test"].dump(),
                  ::testing::HasSubstr("127.0.0.1:" + port + "/healthz"));
      score[i + 1] = "127.0.0.1:0";  // any free port on loopback here
    }
  }
  testing::CliRun s = testing::RunCli(score);
  ASSERT_EQ(s.code, 0) << s.err;
  std::istringstream scores(testing::ReadFileText(dir + "/scores.jsonl"));
  std::string line;
  int n = 0;
  std::set<std::string> sensors;
  while (std::getline(scores, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    EXPECT_TRUE(j["score"].is_number()) << line;
    sensors.insert(j["sensor_id"].get<std::string>());
    ++n;
  }
  EXPECT_EQ(n, 40);
  EXPECT_THAT(sensors, ::testing::Contains("sim-1"));  // --sensor-id-column device_id
  fs::remove_all(dir);
}

// --- Azure -------------------------------------------------------------------

// Sample values for the ${...} placeholders of containerapp.yaml (and the
// Bicep parameters); a placeholder not listed here fails the test.
const Env& AzureSamples() {
  static const Env samples = {
      {"LOCATION", "westeurope"},
      {"IDENTITY_RESOURCE_ID",
       "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
       "Microsoft.ManagedIdentity/userAssignedIdentities/machine-health-scorer-identity"},
      {"IDENTITY_CLIENT_ID", "11111111-1111-1111-1111-111111111111"},
      {"ENVIRONMENT_ID",
       "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
       "Microsoft.App/managedEnvironments/plant"},
      {"REGISTRY_SERVER", "plantregistry.azurecr.io"},
      {"IMAGE_TAG", "1.0.0"},
      {"INFLUXDB_TOKEN_SECRET_URI", "https://plant-kv.vault.azure.net/secrets/influxdb-token"},
      {"SCALER_CONNECTION_STRING_SECRET_URI",
       "https://plant-kv.vault.azure.net/secrets/scaler-eventhub"},
      {"CONSUMER_GROUP", "scorers"},
      {"INFLUXDB_HOST", "eu-central-1-1.aws.cloud2.influxdata.com"},
      {"INFLUXDB_ORG", "plant"},
      {"STORAGE_ACCOUNT_NAME", "plantmodels"},
      {"MODEL_CONTAINER_NAME", "models"},
      {"MODEL_FILE_PATH", "prod/iforest_final.joblib"},
      {"EVENT_HUB_NAMESPACE", "plant-ns"},
      {"EVENT_HUB_NAME", "telemetry"},
      {"MAX_REPLICAS", "4"},
  };
  return samples;
}

// Replaces ${NAME} by `values`; names not in `values` are collected.
std::string Substitute(const std::string& text, const Env& values, std::set<std::string>* unknown) {
  std::string out;
  std::regex var(R"(\$\{([A-Za-z0-9_.()']+)\})");
  std::size_t last = 0;
  for (std::sregex_iterator it(text.begin(), text.end(), var), end; it != end; ++it) {
    out += text.substr(last, it->position() - last);
    const std::string name = (*it)[1];
    auto found = values.find(name);
    if (found == values.end()) {
      unknown->insert(name);
    } else {
      out += found->second;
    }
    last = it->position() + it->length();
  }
  return out + text.substr(last);
}

// Checks the environment of a container against the secrets it may reference;
// secret values become a placeholder.
Env ContainerEnv(const nlohmann::json& container, const std::set<std::string>& secrets) {
  Env env;
  for (const auto& e : container["env"]) {
    const std::string name = e["name"];
    if (e.contains("secretRef")) {
      EXPECT_TRUE(secrets.count(e["secretRef"]))
          << name << ": undeclared secret " << e["secretRef"];
      env[name] = "secret-value";
    } else {
      EXPECT_TRUE(e.contains("value")) << name;
      env[name] = e.value("value", "");
    }
  }
  return env;
}

// Scaler and scorer read the same group, hub and namespace.
void ExpectScalerMatchesScorer(const nlohmann::json& rules, const std::vector<std::string>& args,
                               const Env& env, const std::set<std::string>& secrets) {
  ASSERT_EQ(rules.size(), 1u);
  const auto& custom = rules[0]["custom"];
  EXPECT_EQ(custom["type"], "kafka");
  const auto& meta = custom["metadata"];
  Result<Uri> from = ParseUri(FlagValue(args, "--from"));
  ASSERT_TRUE(from.ok());
  EXPECT_EQ(meta["consumerGroup"], from->Param("group"));
  EXPECT_EQ(meta["topic"], env.at("EVENT_HUB_NAME"));
  EXPECT_EQ(meta["bootstrapServers"], env.at("EVENT_HUB_NAMESPACE_FQDN") + ":9093");
  EXPECT_GT(std::stoi(meta["lagThreshold"].get<std::string>()), 0);
  std::set<std::string> params;
  for (const auto& a : custom["auth"]) {
    EXPECT_TRUE(secrets.count(a["secretRef"])) << a.dump();
    params.insert(a["triggerParameter"]);
  }
  EXPECT_EQ(params, (std::set<std::string>{"sasl", "username", "password", "tls"}));
  // The scorer itself authenticates with the managed identity (OAUTHBEARER).
  auto config = transport::kafka::BuildKafkaConfig(*from, transport::kafka::ClientRole::kSubscriber,
                                                   FakeEnv(env));
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->Property("sasl.mechanisms"), "OAUTHBEARER");
  EXPECT_FALSE(config->oauth_resource.empty());
  EXPECT_EQ(config->topic, env.at("EVENT_HUB_NAME"));
  // The model comes from the prototype's three variables.
  Result<std::string> model = blob::ResolveModelSource("", FakeEnv(env));
  ASSERT_TRUE(model.ok());
  EXPECT_TRUE(HasPrefix(*model, "az://" + env.at("STORAGE_ACCOUNT_NAME") + "/"));
  EXPECT_TRUE(env.count("AZURE_CLIENT_ID"));
}

TEST(AzureTest, ContainerAppYamlIsAcceptedByTheBinary) {
  std::set<std::string> unknown;
  const std::string text = Substitute(testing::ReadFileText(Deploy("azure/containerapp.yaml")),
                                      AzureSamples(), &unknown);
  EXPECT_TRUE(unknown.empty()) << "placeholders without a sample: " << unknown.size() << ", e.g. "
                               << (unknown.empty() ? "" : *unknown.begin());
  // envsubst with the placeholder list must leave this literal alone.
  EXPECT_THAT(text, ::testing::HasSubstr("value: $ConnectionString"));
  const std::string dir = testing::MakeTempDir("mh-deploy-aca");
  ASSERT_TRUE(testing::WriteFileText(dir + "/app.yaml", text).ok());
  nlohmann::json docs = YamlToJson(dir + "/app.yaml");
  fs::remove_all(dir);
  ASSERT_EQ(docs.size(), 1u);
  const auto& app = docs[0];
  EXPECT_EQ(app["type"], "Microsoft.App/containerApps");
  EXPECT_EQ(app["identity"]["type"], "UserAssigned");
  const std::string identity = AzureSamples().at("IDENTITY_RESOURCE_ID");
  EXPECT_TRUE(app["identity"]["userAssignedIdentities"].contains(identity));
  std::set<std::string> secrets;
  for (const auto& s : app["properties"]["configuration"]["secrets"]) {
    secrets.insert(s["name"]);
    if (s.contains("keyVaultUrl")) {
      EXPECT_EQ(s["identity"], identity);
    }
  }
  const auto& containers = app["properties"]["template"]["containers"];
  ASSERT_EQ(containers.size(), 1u);
  EXPECT_FALSE(containers[0].contains("command"));  // the image's ENTRYPOINT
  const auto args = containers[0]["args"].get<std::vector<std::string>>();
  const Env env = ContainerEnv(containers[0], secrets);
  EXPECT_EQ(env.at("AZURE_CLIENT_ID"), AzureSamples().at("IDENTITY_CLIENT_ID"));
  ExpectAccepted(args, env, "containerapp.yaml");
  // The probes ask the port the scorer serves /healthz and /readyz on.
  auto listen = std::find(args.begin(), args.end(), "--metrics-listen");
  ASSERT_NE(listen, args.end());
  ASSERT_NE(listen + 1, args.end());
  const std::string port = (listen + 1)->substr((listen + 1)->rfind(':') + 1);
  std::map<std::string, std::string> probe_paths;
  for (const auto& probe : containers[0]["probes"]) {
    EXPECT_EQ(std::to_string(probe["httpGet"]["port"].get<int>()), port) << probe.dump();
    probe_paths[probe["type"]] = probe["httpGet"]["path"];
  }
  EXPECT_EQ(probe_paths["Liveness"], "/healthz");
  EXPECT_EQ(probe_paths["Readiness"], "/readyz");
  ExpectScalerMatchesScorer(app["properties"]["template"]["scale"]["rules"], args, env, secrets);
}

// --- Bicep (no Bicep compiler here: read statically) -------------------------

// The text between `key: [` and its closing bracket.
std::string BicepBlock(const std::string& text, const std::string& key, std::size_t from = 0) {
  const std::size_t at = text.find(key + ": [", from);
  if (at == std::string::npos) return "";
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = text.find('[', at); i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\'') in_string = !in_string;
    if (in_string) continue;
    if (c == '[') ++depth;
    if (c == ']' && --depth == 0) return text.substr(at, i - at + 1);
  }
  return "";
}

TEST(AzureTest, BicepIsBalancedAndItsContainerIsAcceptedByTheBinary) {
  const std::string text = testing::ReadFileText(Deploy("azure/main.bicep"));
  ASSERT_FALSE(text.empty());
  // Brackets balance outside strings and comments.
  int braces = 0, brackets = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!in_string && c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      i = text.find('\n', i);
      if (i == std::string::npos) break;
      continue;
    }
    if (c == '\'') in_string = !in_string;
    if (in_string) continue;
    braces += c == '{' ? 1 : c == '}' ? -1 : 0;
    brackets += c == '[' ? 1 : c == ']' ? -1 : 0;
    ASSERT_GE(braces, 0) << "offset " << i;
    ASSERT_GE(brackets, 0) << "offset " << i;
  }
  EXPECT_EQ(braces, 0);
  EXPECT_EQ(brackets, 0);
  EXPECT_FALSE(in_string);

  // Parameters: those with a default take it, the others a sample value.
  Env values;
  std::regex param(R"(param (\w+) (\w+)(?: = '([^']*)')?)");
  for (std::sregex_iterator it(text.begin(), text.end(), param), end; it != end; ++it) {
    values[(*it)[1]] = (*it)[3].matched ? std::string((*it)[3]) : "sample-" + std::string((*it)[1]);
  }
  values["eventHubNamespaceName"] = AzureSamples().at("EVENT_HUB_NAMESPACE");
  values["eventHubName"] = AzureSamples().at("EVENT_HUB_NAME");
  values["storageAccountName"] = AzureSamples().at("STORAGE_ACCOUNT_NAME");
  values["influxdbHost"] = AzureSamples().at("INFLUXDB_HOST");
  values["identity.properties.clientId"] = AzureSamples().at("IDENTITY_CLIENT_ID");
  // A Bicep expression: 'text ${param}' or a bare parameter name.
  auto value_of = [&](std::string expr) -> std::string {
    expr = std::string(TrimSpace(expr));
    std::set<std::string> unknown;
    std::string v;
    if (!expr.empty() && expr.front() == '\'') {
      v = Substitute(expr.substr(1, expr.rfind('\'') - 1), values, &unknown);
    } else {
      auto it = values.find(expr);
      if (it == values.end()) unknown.insert(expr);
      v = it == values.end() ? "" : it->second;
    }
    EXPECT_TRUE(unknown.empty()) << "unknown in " << expr;
    return v;
  };

  const std::string args_block = BicepBlock(text, "args");
  ASSERT_FALSE(args_block.empty());
  std::vector<std::string> args;
  std::regex item(R"('([^']*)')");
  for (std::sregex_iterator it(args_block.begin(), args_block.end(), item), end; it != end; ++it) {
    args.push_back(value_of((*it)[0]));
  }
  const std::string env_block = BicepBlock(text, "env");
  ASSERT_FALSE(env_block.empty());
  Env env;
  std::regex entry(R"(name: '(\w+)'\s+(value|secretRef): ([^\n]+))");
  std::set<std::string> secrets;
  const std::string secrets_block = BicepBlock(text, "secrets");
  std::regex secret_name(R"(name: '([\w-]+)')");
  for (std::sregex_iterator it(secrets_block.begin(), secrets_block.end(), secret_name), end;
       it != end; ++it) {
    secrets.insert((*it)[1]);
  }
  for (std::sregex_iterator it(env_block.begin(), env_block.end(), entry), end; it != end; ++it) {
    if ((*it)[2] == "secretRef") {
      EXPECT_TRUE(secrets.count(value_of((*it)[3]))) << (*it)[0];
      env[(*it)[1]] = "secret-value";
    } else {
      env[(*it)[1]] = value_of((*it)[3]);
    }
  }
  EXPECT_EQ(env.size(), 7u);
  ExpectAccepted(args, env, "main.bicep");

  // The scale rule reads the same group and hub.
  EXPECT_THAT(text, ::testing::HasSubstr("type: 'kafka'"));
  EXPECT_THAT(text, ::testing::HasSubstr("consumerGroup: consumerGroup"));
  EXPECT_THAT(text, ::testing::HasSubstr("'eventhubs:?group=${consumerGroup}'"));
  EXPECT_THAT(text, ::testing::HasSubstr("topic: eventHubName"));
  // Roles: Storage Blob Data Reader on the model container, Event Hubs Data
  // Receiver on the hub (built-in role definition IDs).
  EXPECT_THAT(text, ::testing::HasSubstr("'2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'"));
  EXPECT_THAT(text, ::testing::HasSubstr("'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'"));
  EXPECT_THAT(text, ::testing::HasSubstr("scope: modelContainer"));
  EXPECT_THAT(text, ::testing::HasSubstr("scope: hub"));
  EXPECT_THAT(text, ::testing::HasSubstr("type: 'UserAssigned'"));
  // Probes on the --metrics-listen port, as in containerapp.yaml.
  EXPECT_THAT(text, ::testing::HasSubstr("'0.0.0.0:8080'"));
  EXPECT_THAT(text, ::testing::HasSubstr("type: 'Readiness'"));
  EXPECT_THAT(text, ::testing::HasSubstr("path: '/readyz'"));
  EXPECT_THAT(text, ::testing::HasSubstr("path: '/healthz'"));
  EXPECT_THAT(text, ::testing::HasSubstr("port: 8080"));
}

// --- systemd units -----------------------------------------------------------

std::vector<std::string> Units() {
  std::vector<std::string> units = DeployFiles(".service");
  EXPECT_GE(units.size(), 2u);
  return units;
}

// Key=value lines of a unit (repeated keys kept in order).
std::vector<std::pair<std::string, std::string>> UnitEntries(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> entries;
  std::istringstream in(testing::ReadFileText(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    entries.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return entries;
}

TEST(SystemdTest, UnitsAreHardenedAndTheirCommandsAccepted) {
  for (const auto& path : Units()) {
    SCOPED_TRACE(path);
    std::multimap<std::string, std::string> keys;
    for (const auto& [k, v] : UnitEntries(path)) keys.emplace(k, v);
    auto value = [&](const std::string& k) {
      auto it = keys.find(k);
      return it == keys.end() ? std::string("<unset>") : it->second;
    };
    EXPECT_EQ(value("DynamicUser"), "yes");
    EXPECT_EQ(value("ProtectSystem"), "strict");
    EXPECT_EQ(value("NoNewPrivileges"), "yes");
    EXPECT_EQ(value("ProtectHome"), "yes");
    EXPECT_EQ(value("PrivateTmp"), "yes");
    EXPECT_EQ(value("MemoryDenyWriteExecute"), "yes");
    EXPECT_EQ(value("RestrictAddressFamilies"), "AF_INET AF_INET6 AF_UNIX");
    EXPECT_EQ(value("SystemCallFilter"), "@system-service");

    const std::string exec = value("ExecStart");
    std::vector<std::string> words;
    std::istringstream in(exec);
    for (std::string w; in >> w;) words.push_back(w);
    ASSERT_GE(words.size(), 2u);
    EXPECT_EQ(words[0], "/usr/local/bin/machine-health");
    // %d is the credentials directory; every file used there is loaded.
    std::set<std::string> credentials;
    for (auto [it, end] = keys.equal_range("LoadCredential"); it != end; ++it) {
      credentials.insert(it->second.substr(0, it->second.find(':')));
    }
    std::vector<std::string> args(words.begin() + 1, words.end());
    for (auto& a : args) {
      for (std::size_t at; (at = a.find("%d/")) != std::string::npos;) {
        const std::string rest = a.substr(at + 3);
        const std::string name = rest.substr(0, rest.find_first_of("&?"));
        EXPECT_TRUE(credentials.count(name)) << name << " is not a LoadCredential";
        a.replace(at, 2, "/run/credentials/unit");
      }
    }
    Env env;
    for (auto [it, end] = keys.equal_range("Environment"); it != end; ++it) {
      const std::string& e = it->second;
      env[e.substr(0, e.find('='))] = e.substr(e.find('=') + 1);
    }
    ExpectAccepted(args, env, path);
    if (args[0] == "run") {  // for real, with the store and port of the test
      const std::string dir = testing::MakeTempDir("mh-deploy-unit-run");
      auto child = StartBinary(LocalRun(args, dir, testing::FreeTcpPort()), dir);
      ASSERT_NE(child, nullptr);
      EXPECT_EQ(child->Stop(), 0) << testing::ReadFileText(dir + "/log.txt");  // KillSignal=SIGTERM
      fs::remove_all(dir);
    }
    // The database lives where the unit may write.
    const std::string db = FlagValue(args, "--db");
    if (!db.empty() && args[0] == "run") {
      const std::string state = "/var/lib/" + value("StateDirectory") + "/";
      bool writable = HasPrefix(db, state);
      for (auto [it, end] = keys.equal_range("ReadWritePaths"); it != end; ++it) {
        if (HasPrefix(db, it->second + "/")) writable = true;
      }
      EXPECT_TRUE(writable) << db << " is neither in StateDirectory nor in ReadWritePaths";
    }
  }
}

// systemd's own checker: no unknown key, bad value or missing binary
// (systemd-analyze verify warns and still exits 0, so its output must be
// empty), and the exposure score of systemd-analyze security.
TEST(SystemdTest, SystemdAnalyzeVerifiesTheUnits) {
  if (testing::FindProgram("systemd-analyze").empty()) {
    GTEST_SKIP() << "systemd-analyze not found (package systemd): units checked statically only";
  }
  const std::string binary = testing::BinaryPath();
  ASSERT_FALSE(binary.empty());
  const std::string dir = testing::MakeTempDir("mh-deploy-units");
  for (const auto& path : Units()) {
    SCOPED_TRACE(path);
    std::string text = testing::ReadFileText(path);
    const std::string installed = "/usr/local/bin/machine-health";
    for (std::size_t at; (at = text.find(installed)) != std::string::npos;) {
      text.replace(at, installed.size(), binary);
    }
    const std::string unit = dir + "/" + fs::path(path).filename().string();
    ASSERT_TRUE(testing::WriteFileText(unit, text).ok());
    std::string out;
    EXPECT_EQ(Shell("systemd-analyze verify " + testing::ShellQuote(unit), &out), 0) << out;
    EXPECT_EQ(out, "") << "systemd-analyze verify complained";
    ASSERT_EQ(Shell("systemd-analyze security --offline=yes --no-pager " +
                        testing::ShellQuote(unit) + " | tail -n 1",
                    &out),
              0)
        << out;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(exposure level for \S+: ([0-9.]+))")))
        << out;
    EXPECT_LE(std::stod(m[1]), 2.0) << out;
  }
  // The checker catches a misspelt key.
  const std::string bad = dir + "/bad.service";
  ASSERT_TRUE(
      testing::WriteFileText(bad, "[Service]\nExecStart=" + binary + "\nProtectSystm=strict\n")
          .ok());
  std::string out;
  Shell("systemd-analyze verify " + testing::ShellQuote(bad), &out);
  EXPECT_THAT(out, ::testing::HasSubstr("Unknown key"));
  fs::remove_all(dir);
}

// docs/operations.md, "Back up the store": VACUUM INTO while `run` (the
// unit's command line) writes gives a complete store machine-health reads.
TEST(BackupTest, VacuumIntoWhileRunWritesGivesAConsistentStore) {
  if (testing::FindProgram("sqlite3").empty()) GTEST_SKIP() << "sqlite3 not found";
  std::vector<std::string> args;
  for (const auto& [k, v] : UnitEntries(Deploy("machine-health.service"))) {
    if (k != "ExecStart") continue;
    std::istringstream in(v);
    for (std::string w; in >> w;) args.push_back(w);
  }
  ASSERT_GE(args.size(), 2u);
  args.erase(args.begin());
  ASSERT_EQ(args[0], "run");
  const std::string dir = testing::MakeTempDir("mh-deploy-backup");
  const std::string db = dir + "/" + fs::path(FlagValue(args, "--db")).filename().string();
  auto child = StartBinary(LocalRun(args, dir, testing::FreeTcpPort()), dir);
  ASSERT_NE(child, nullptr);
  const std::string count =
      "sqlite3 " + testing::ShellQuote(db) + " 'SELECT count(*) FROM windows'";
  std::string out;
  ASSERT_TRUE(
      testing::WaitUntil([&] { return Shell(count, &out) == 0 && std::atoi(out.c_str()) >= 100; },
                         std::chrono::seconds(60)))
      << out;
  const std::string copy = dir + "/backup.db";
  ASSERT_EQ(Shell("sqlite3 " + testing::ShellQuote(db) + " \"VACUUM INTO '" + copy + "'\"", &out),
            0)
      << out;
  EXPECT_TRUE(child->Running()) << "run stopped during the backup";
  EXPECT_EQ(child->Stop(), 0);
  ASSERT_EQ(Shell("sqlite3 " + testing::ShellQuote(copy) + " 'PRAGMA integrity_check'", &out), 0);
  EXPECT_EQ(TrimSpace(out), "ok");
  ASSERT_EQ(Shell("sqlite3 " + testing::ShellQuote(copy) + " 'SELECT count(*) FROM windows'", &out),
            0);
  EXPECT_GE(std::atoi(out.c_str()), 100);
  EXPECT_FALSE(fs::exists(copy + "-wal") && fs::file_size(copy + "-wal") > 0);
  // machine-health reads the copy as a store (schema version 4, no migration).
  testing::CliRun machines = testing::RunCli({"machines", "list", "--db", copy, "--json"});
  EXPECT_EQ(machines.code, 0) << machines.err;
  EXPECT_THAT(machines.out, ::testing::HasSubstr("m1"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mh
