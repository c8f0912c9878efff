#include "app/command.h"

#include <memory>
#include <ostream>

#include <CLI/CLI.hpp>

#include "app/config_file.h"
#include "log/log.h"

namespace mh::app {

void PrintError(CommandIo& io, const std::string& command, std::string_view message) {
  io.err << "machine-health " << command << ": ";
  if (message.size() <= kMaxMessageBytes) {
    io.err << message << "\n";
    return;
  }
  std::size_t cut = kMaxMessageBytes;
  while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
  io.err << message.substr(0, cut) << "... (" << message.size() - cut << " more bytes)\n";
}

int ReportError(CommandIo& io, const std::string& command, const Status& status) {
  PrintError(io, command, status.message());
  return kExitFailure;
}

int ReportOptionError(CommandIo& io, const std::string& command, const Status& status) {
  PrintError(io, command, status.message());
  return status.IsInvalidArgument() ? kExitUsage : kExitFailure;
}

int UsageError(CommandIo& io, const std::string& command, const std::string& message) {
  PrintError(io, command, message);
  return kExitUsage;
}

void RegisterCli(CLI::App& app, CommandIo& io, Action& action) {
  app.description(
      "machine-health: real-time machine-health monitoring for industrial IoT.\n"
      "Turns vibration into features, scores them with an Isolation Forest and raises alerts.");
  app.require_subcommand(1);
  // Root options are accepted after the command too (machine-health score --config F).
  app.fallthrough();
  app.set_version_flag("--version", "machine-health 0.1.0");
  app.add_option("--log-level", "log messages at this level and above (default: info)")
      ->type_name("LEVEL")
      ->envname("MH_LOG_LEVEL")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--log-format",
                 "log lines as text (\"TIME LEVEL COMPONENT: MESSAGE\", the default) or json "
                 "(one object per line)")
      ->type_name("FORMAT")
      ->envname("MH_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}));
  AddRunCommand(app, io, action);
  AddSimulateCommand(app, io, action);
  AddServeCommand(app, io, action);
  AddFeaturesCommand(app, io, action);
  AddTrainCommand(app, io, action);
  AddScoreCommand(app, io, action);
  AddModelCommand(app, io, action);
  AddCatCommand(app, io, action);
  AddReplayCommand(app, io, action);
  AddReportCommand(app, io, action);
  AddEvaluateCommand(app, io, action);
  AddAlarmsCommand(app, io, action);
  AddMachinesCommand(app, io, action);
  AddBaselineCommand(app, io, action);
  AddExportCommand(app, io, action);
  AddConfigCommand(app, io, action);
}

namespace {

// The log settings given (flag, environment or file) while a command runs.
class LogSettings {
 public:
  explicit LogSettings(const CLI::App& app)
      : saved_level_(log::GetLevel()), saved_format_(log::GetFormat()) {
    const CLI::Option* level = app.get_option("--log-level");
    if (level->count() > 0) {
      if (auto l = log::ParseLevel(level->as<std::string>())) log::SetLevel(*l);
    }
    const CLI::Option* format = app.get_option("--log-format");
    if (format->count() > 0) {
      if (auto f = log::ParseFormat(format->as<std::string>())) log::SetFormat(*f);
    }
  }
  ~LogSettings() {
    log::SetLevel(saved_level_);
    log::SetFormat(saved_format_);
  }
  LogSettings(const LogSettings&) = delete;
  LogSettings& operator=(const LogSettings&) = delete;

 private:
  log::Level saved_level_;
  log::Format saved_format_;
};

// Parses `args` and, when `run`, runs the chosen command.
int ParseAndRun(const std::vector<std::string>& args, CommandIo& io, bool run) {
  CLI::App app{"", "machine-health"};
  Action action;
  RegisterCli(app, io, action);
  app.config_formatter(std::make_shared<TomlConfig>(&app, RegisterCli, ProcessEnvLookup()));
  app.set_config("--config", "",
                 "TOML file with options of every command; environment variables and flags "
                 "override it (docs/configuration.md)")
      ->type_name("FILE");
  try {
    // CLI11 wants the arguments in reverse order.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    io.out << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp& e) {
    io.out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const ConfigFileError& e) {
    for (const std::string& line : e.errors) io.err << "machine-health: " << line << "\n";
    if (e.more_errors > 0) {
      io.err << "machine-health: config: ... and " << e.more_errors << " more errors\n";
    }
    return kExitUsage;
  } catch (const CLI::FileError& e) {
    io.err << "machine-health: config: " << e.what() << "\n";
    return kExitUsage;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --version and the like
      app.exit(e, io.out, io.err);
      return kExitOk;
    }
    io.err << "machine-health: " << e.what() << "\n";
    io.err << "run 'machine-health --help' or 'machine-health <command> --help' for usage\n";
    return kExitUsage;
  }
  if (!action) return kExitUsage;
  if (!run) return kExitOk;
  LogSettings log_settings(app);
  return action();
}

}  // namespace

int RunMain(const std::vector<std::string>& args, CommandIo& io) {
  return ParseAndRun(args, io, /*run=*/true);
}

int CheckCommandLine(const std::vector<std::string>& args, CommandIo& io) {
  return ParseAndRun(args, io, /*run=*/false);
}

}  // namespace mh::app
