// machine-health score (placeholder until implemented).
#include <CLI/CLI.hpp>

#include "app/command.h"

namespace mh::app {

void AddScoreCommand(CLI::App& root, CommandIo& io, Action& action) {
  CLI::App* sub = root.add_subcommand("score", "(not yet implemented)");
  sub->callback([&io, &action] {
    action = [&io] {
      io.err << "machine-health score: not yet implemented\n";
      return kExitFailure;
    };
  });
}

}  // namespace mh::app
