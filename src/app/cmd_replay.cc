// machine-health replay (placeholder until implemented).
#include <CLI/CLI.hpp>

#include "app/command.h"

namespace mh::app {

void AddReplayCommand(CLI::App& root, CommandIo& io, Action& action) {
  CLI::App* sub = root.add_subcommand("replay", "(not yet implemented)");
  sub->callback([&io, &action] {
    action = [&io] {
      io.err << "machine-health replay: not yet implemented\n";
      return kExitFailure;
    };
  });
}

}  // namespace mh::app
