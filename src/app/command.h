// The CLI's shape: every subcommand is registered on the root CLI11 app by an
// Add*Command function and, when chosen, runs as a function of its parsed
// options and the given streams, so that tests can run it in-process.
//
// Exit codes: kExitOk (0) success, kExitFailure (1) runtime failure,
// kExitUsage (2) usage error (bad option value or combination).
#ifndef MH_APP_COMMAND_H_
#define MH_APP_COMMAND_H_

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace CLI {
class App;
}

namespace mh::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct CommandIo {
  std::ostream& out;
  std::ostream& err;
};

// Set by a subcommand's parse callback; run after parsing succeeded.
using Action = std::function<int()>;

// Longest message printed whole; a longer one (a header of a million fields
// quoted in it, say) is cut there with "... (N more bytes)".
inline constexpr std::size_t kMaxMessageBytes = 2000;

// Prints "machine-health <command>: <message>" to io.err, bounded to
// kMaxMessageBytes (cut at a UTF-8 character boundary). Every message of a
// command goes through it.
void PrintError(CommandIo& io, const std::string& command, std::string_view message);

// Prints "machine-health <command>: <message>" (PrintError) and returns
// kExitFailure: for a failure while running, including bad data in an input
// file (whatever its code: a malformed cell is InvalidArgument, still exit 1).
int ReportError(CommandIo& io, const std::string& command, const Status& status);
// The same for a status from checking or applying an option's value (a URL,
// an address, a band list): kExitUsage for InvalidArgument, else
// kExitFailure (e.g. a broker that is down is Unavailable, exit 1).
int ReportOptionError(CommandIo& io, const std::string& command, const Status& status);
// The same for a usage error found after parsing (exit 2).
int UsageError(CommandIo& io, const std::string& command, const std::string& message);

// Runs the CLI on `args` (without the program name). Root options, accepted
// before or after the command: --config FILE (TOML, app/config_file.h),
// --log-level debug|info|warn|error (MH_LOG_LEVEL), --log-format text|json
// (MH_LOG_FORMAT); the log settings given hold while the command runs and
// are restored when it returns.
int RunMain(const std::vector<std::string>& args, CommandIo& io);

// Parses `args` exactly as RunMain does (same options, validators and usage
// messages) but runs no command: kExitOk when the command line is accepted,
// kExitUsage otherwise. For checking command lines kept in files (the
// deployment files in deploy/, tests/deploy/) against the real CLI; checks
// made only when a command runs (addresses, option combinations) are not made.
int CheckCommandLine(const std::vector<std::string>& args, CommandIo& io);

// Registers the root options (not --config) and every command on `app`: the
// whole CLI, also for checking configuration files against it.
void RegisterCli(CLI::App& app, CommandIo& io, Action& action);

// One per subcommand (cmd_<name>.cc).
void AddRunCommand(CLI::App& root, CommandIo& io, Action& action);
void AddSimulateCommand(CLI::App& root, CommandIo& io, Action& action);
void AddServeCommand(CLI::App& root, CommandIo& io, Action& action);
void AddFeaturesCommand(CLI::App& root, CommandIo& io, Action& action);
void AddTrainCommand(CLI::App& root, CommandIo& io, Action& action);
void AddScoreCommand(CLI::App& root, CommandIo& io, Action& action);
void AddModelCommand(CLI::App& root, CommandIo& io, Action& action);
void AddCatCommand(CLI::App& root, CommandIo& io, Action& action);
void AddReplayCommand(CLI::App& root, CommandIo& io, Action& action);
void AddReportCommand(CLI::App& root, CommandIo& io, Action& action);
void AddEvaluateCommand(CLI::App& root, CommandIo& io, Action& action);
void AddAlarmsCommand(CLI::App& root, CommandIo& io, Action& action);
void AddMachinesCommand(CLI::App& root, CommandIo& io, Action& action);
void AddBaselineCommand(CLI::App& root, CommandIo& io, Action& action);
void AddExportCommand(CLI::App& root, CommandIo& io, Action& action);
void AddConfigCommand(CLI::App& root, CommandIo& io, Action& action);

}  // namespace mh::app

#endif  // MH_APP_COMMAND_H_
