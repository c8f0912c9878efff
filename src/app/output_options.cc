#include "app/output_options.h"

#include <ostream>

#include <CLI/CLI.hpp>

#include "core/file_util.h"

namespace mh::app {

CLI::Option* AddOutputOptions(CLI::App& sub, OutputArgs& args, const std::string& what,
                              bool required) {
  CLI::Option* out = sub.add_option(
      "--out", args.out,
      "Output file of the " + what +
          ", format by extension: .csv, .tsv, .jsonl/.ndjson, .parquet (any case); - for CSV "
          "on standard output");
  if (required) out->required();
  sub.add_option("--format", args.format,
                 "Output format, overriding the --out extension: csv, tsv, jsonl or parquet "
                 "(with --out -, one of the text formats)");
  return out;
}

Result<tableio::TableFormat> ResolveOutputFormat(const OutputArgs& args) {
  return tableio::ResolveTableFormat(args.out, args.format);
}

Result<std::unique_ptr<tableio::TableOutput>> OpenOutput(
    const OutputArgs& args, const std::vector<TableColumnInfo>& schema,
    std::ostream& standard_output, const tableio::TableOutputOptions& options) {
  return tableio::OpenTableOutput(args.out, args.format, schema, &standard_output, options);
}

Status WriteTextOutput(const std::string& path, const std::string& text,
                       std::ostream& standard_output) {
  if (path == "-") {
    standard_output << text;
    standard_output.flush();
    return standard_output ? Status::OK() : Status::IOError("standard output: write failed");
  }
  return WriteFileAtomic(path, text);
}

}  // namespace mh::app
