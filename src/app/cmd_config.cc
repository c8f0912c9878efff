// machine-health config: the configuration file (docs/configuration.md).
//
//   machine-health config check FILE
//       Checks every table and key of FILE against every command's options
//       and prints the effective configuration (the file's values with the
//       environment's overrides applied, as TOML, secrets masked).
//
// Exit codes: 0 valid, 2 invalid (each error on its own line, in file order,
// up to kMaxConfigErrors).
#include <memory>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "app/config_file.h"

namespace mh::app {
namespace {

int RunConfigCheck(const std::string& path, CommandIo& io) {
  const ConfigFile file = CheckConfigFile(path, RegisterCli);
  if (!file.errors.empty()) {
    for (const std::string& line : file.errors) io.err << "machine-health: " << line << "\n";
    if (file.more_errors > 0) {
      io.err << "machine-health: config: ... and " << file.more_errors << " more errors\n";
    }
    return kExitUsage;
  }
  io.out << FormatEffectiveConfig(file, RegisterCli, ProcessEnvLookup());
  return kExitOk;
}

}  // namespace

void AddConfigCommand(CLI::App& root, CommandIo& io, Action& action) {
  CLI::App* sub = root.add_subcommand("config", "Check configuration files");
  sub->require_subcommand(1);
  CLI::App* check = sub->add_subcommand(
      "check",
      "Check a configuration file against every command's options and print the effective "
      "configuration (environment overrides applied, secrets masked)");
  auto path = std::make_shared<std::string>();
  check->add_option("FILE", *path, "the TOML file")->required();
  check->callback(
      [&io, &action, path] { action = [&io, path] { return RunConfigCheck(*path, io); }; });
}

}  // namespace mh::app
