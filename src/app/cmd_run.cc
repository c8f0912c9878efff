// machine-health run (placeholder until implemented).
#include <CLI/CLI.hpp>

#include "app/command.h"

namespace mh::app {

void AddRunCommand(CLI::App& root, CommandIo& io, Action& action) {
  CLI::App* sub = root.add_subcommand("run", "(not yet implemented)");
  sub->callback([&io, &action] {
    action = [&io] {
      io.err << "machine-health run: not yet implemented\n";
      return kExitFailure;
    };
  });
}

}  // namespace mh::app
