// The --progress option of the commands that work through many files
// (features, train, evaluate) and of replay, registered once with one help
// text, and the Progress (core/progress.h) it asks for on the command's
// error stream.
//
//   auto   (default) a bar redrawn in place when the error stream is the
//          process's stderr and a terminal; else plain lines every 5 s,
//          without a last line when the work ended before the first one
//   bar    the bar, wherever the stream goes
//   lines  the lines, always with a last one ("done in ...")
//   off    nothing
#ifndef MH_APP_PROGRESS_OPTION_H_
#define MH_APP_PROGRESS_OPTION_H_

#include <cstdint>
#include <memory>
#include <string>

#include "app/command.h"
#include "core/progress.h"

namespace CLI {
class App;
}  // namespace CLI

namespace mh::app {

// Adds --progress auto|bar|lines|off (default auto; other values are usage
// errors) to `sub`, stored in *mode.
void AddProgressOption(CLI::App& sub, std::string* mode);

// The Progress of `total` `unit` ("files", "rows") labelled with the
// command's name, writing to io.err. `mode` as AddProgressOption stored it.
std::unique_ptr<Progress> StartProgress(const std::string& mode, const std::string& command,
                                        std::int64_t total, const std::string& unit, CommandIo& io);

}  // namespace mh::app

#endif  // MH_APP_PROGRESS_OPTION_H_
