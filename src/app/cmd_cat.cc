// machine-health cat (placeholder until implemented).
#include <CLI/CLI.hpp>

#include "app/command.h"

namespace mh::app {

void AddCatCommand(CLI::App& root, CommandIo& io, Action& action) {
  CLI::App* sub = root.add_subcommand("cat", "(not yet implemented)");
  sub->callback([&io, &action] {
    action = [&io] {
      io.err << "machine-health cat: not yet implemented\n";
      return kExitFailure;
    };
  });
}

}  // namespace mh::app
