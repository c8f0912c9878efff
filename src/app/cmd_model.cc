// machine-health model (placeholder until implemented).
#include <CLI/CLI.hpp>

#include "app/command.h"

namespace mh::app {

void AddModelCommand(CLI::App& root, CommandIo& io, Action& action) {
  CLI::App* sub = root.add_subcommand("model", "(not yet implemented)");
  sub->callback([&io, &action] {
    action = [&io] {
      io.err << "machine-health model: not yet implemented\n";
      return kExitFailure;
    };
  });
}

}  // namespace mh::app
