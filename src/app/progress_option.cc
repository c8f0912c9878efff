#include "app/progress_option.h"

#include <iostream>

#include <CLI/CLI.hpp>

namespace mh::app {

void AddProgressOption(CLI::App& sub, std::string* mode) {
  sub.add_option("--progress", *mode,
                 "Progress on stderr: auto (a bar on a terminal, else a line every 5 s), bar, "
                 "lines or off")
      ->check(CLI::IsMember({"auto", "bar", "lines", "off"}))
      ->capture_default_str();
}

std::unique_ptr<Progress> StartProgress(const std::string& mode, const std::string& command,
                                        std::int64_t total, const std::string& unit,
                                        CommandIo& io) {
  Result<ProgressMode> parsed = ParseProgressMode(mode);
  const ProgressMode given = parsed.ok() ? *parsed : ProgressMode::kAuto;
  ProgressOptions o;
  o.label = command;
  o.unit = unit;
  o.total = total;
  o.mode = ResolveProgressMode(given, &io.err == &std::cerr && StderrIsTerminal());
  o.last_line_if_quick = given != ProgressMode::kAuto;
  return std::make_unique<Progress>(std::move(o), io.err);
}

}  // namespace mh::app
