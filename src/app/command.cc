#include "app/command.h"

#include <ostream>

#include <CLI/CLI.hpp>

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

namespace {

// Parses `args` and, when `run`, runs the chosen command.
int ParseAndRun(const std::vector<std::string>& args, CommandIo& io, bool run) {
  CLI::App app{
      "machine-health: real-time machine-health monitoring for industrial IoT.\n"
      "Turns vibration into features, scores them with an Isolation Forest and raises alerts.",
      "machine-health"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "machine-health 0.1.0");
  Action action;
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
  return run ? action() : kExitOk;
}

}  // namespace

int RunMain(const std::vector<std::string>& args, CommandIo& io) {
  return ParseAndRun(args, io, /*run=*/true);
}

int CheckCommandLine(const std::vector<std::string>& args, CommandIo& io) {
  return ParseAndRun(args, io, /*run=*/false);
}

}  // namespace mh::app
