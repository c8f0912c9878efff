// The --out and --format options of every command that writes rows
// (features, score, ...), registered once with the same help text, and the
// opening of the output they name (tableio/table_output.h).
#ifndef MH_APP_OUTPUT_OPTIONS_H_
#define MH_APP_OUTPUT_OPTIONS_H_

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/table.h"
#include "tableio/table_output.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace mh::app {

struct OutputArgs {
  std::string out;     // a path, or "-" for standard output
  std::string format;  // "" = by the extension of `out`
};

// Adds --out (required when `required`) and --format to `sub`; `what`
// names the rows in the help ("scores", "feature rows"). Returns --out.
CLI::Option* AddOutputOptions(CLI::App& sub, OutputArgs& args, const std::string& what,
                              bool required);

// The format --out/--format ask for: InvalidArgument (a usage error) as
// tableio::ResolveTableFormat says.
Result<tableio::TableFormat> ResolveOutputFormat(const OutputArgs& args);

// Opens the output for rows of `schema`; "-" writes to `standard_output`.
Result<std::unique_ptr<tableio::TableOutput>> OpenOutput(
    const OutputArgs& args, const std::vector<TableColumnInfo>& schema,
    std::ostream& standard_output, const tableio::TableOutputOptions& options = {});

// Writes `text` to `path` (through a temporary file renamed when complete),
// or to `standard_output` for "-": JSON figures of report and evaluate.
Status WriteTextOutput(const std::string& path, const std::string& text,
                       std::ostream& standard_output);

}  // namespace mh::app

#endif  // MH_APP_OUTPUT_OPTIONS_H_
