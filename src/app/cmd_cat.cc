// machine-health cat: prints a data file like parquet-tools does.
//
//   machine-health cat FILE [--schema] [--columns a,b] [--limit N]
//                           [--format jsonl|csv|tsv|parquet] [--out FILE|-]
//       Parquet files (the "PAR1" magic at the start or the end, or a
//       .parquet name: parquet::LooksLikeParquetFile) are read with the
//       project's Parquet reader, so a damaged one is reported as Parquet;
//       other files with the CSV reader.
//       jsonl: one JSON object per row, keys = column names; integers as
//       integers, FLOAT/DOUBLE as the shortest round-trip decimal, NaN and
//       infinities as "NaN"/"Infinity"/"-Infinity", timestamps as RFC 3339
//       UTC with 3/6/9 fractional digits by unit, dates YYYY-MM-DD, binary as
//       lowercase hex, decimals as exact strings, null as null.
//       csv: a header line, then the same texts (RFC 4180 quoting; null is
//       an empty cell). --out FILE writes a file in the format of its
//       extension instead (tableio/table_output.h; Parquet keeps the kinds).
//       --schema prints the columns (physical and logical types), the row
//       groups, codecs and encodings instead of the rows.
//
// Exit codes: 0 ok, 1 unreadable, damaged or refused file (bad data, a
// directory, no such file), 2 usage error (bad option; --columns naming no
// column of the file).
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "app/output_options.h"
#include "core/strings.h"
#include "csv/csv_reader.h"
#include "parquet/parquet_reader.h"
#include "parquet/table_text.h"

namespace mh::app {
namespace {

struct CatArgs {
  std::string file;
  bool schema = false;
  std::string columns;
  long long limit = -1;
  OutputArgs output;  // --out (default: standard output) and --format
};

void PrintParquetSchema(const parquet::ParquetFileInfo& info, const std::string& path,
                        std::ostream& out) {
  out << "file: " << path << "\n";
  out << "created_by: " << info.created_by << "\n";
  out << "format_version: " << info.format_version << "\n";
  out << "num_rows: " << info.num_rows << "\n";
  out << "num_row_groups: " << info.row_groups.size() << "\n";
  out << "columns:\n";
  for (const auto& c : info.columns) {
    out << "  " << c.name << ": " << c.physical_type;
    if (c.type_length > 0) out << "(" << c.type_length << ")";
    out << " " << c.repetition;
    if (!c.logical_type.empty()) out << " logical=" << c.logical_type;
    if (!c.converted_type.empty()) out << " converted=" << c.converted_type;
    if (c.nested) out << " (nested: not readable)";
    out << "\n";
  }
  for (std::size_t g = 0; g < info.row_groups.size(); ++g) {
    const auto& rg = info.row_groups[g];
    out << "row_group " << g << ": rows=" << rg.num_rows << "\n";
    for (const auto& ch : rg.chunks) {
      out << "  " << ch.column << ": codec=" << ch.codec << " encodings=";
      for (std::size_t i = 0; i < ch.encodings.size(); ++i) {
        out << (i ? "," : "") << ch.encodings[i];
      }
      out << " values=" << ch.num_values << " compressed_bytes=" << ch.compressed_bytes
          << " uncompressed_bytes=" << ch.uncompressed_bytes;
      if (ch.has_null_count) out << " nulls=" << ch.null_count;
      out << "\n";
    }
  }
  for (const auto& [k, v] : info.key_value_metadata) {
    out << "metadata " << k << ": " << (v.size() > 200 ? v.substr(0, 200) + "..." : v) << "\n";
  }
}

int RunCat(const CatArgs& args, CommandIo& io) {
  const std::string command = "cat";
  // On standard output cat prints JSON lines unless --format says otherwise;
  // a file's format follows its extension (app/output_options.h).
  OutputArgs output = args.output;
  if (output.out.empty()) output.out = "-";
  if (output.out == "-" && output.format.empty()) output.format = "jsonl";
  Result<tableio::TableFormat> format = ResolveOutputFormat(output);
  if (!format.ok()) return UsageError(io, command, format.status().message());
  std::vector<std::string> columns;
  if (!args.columns.empty()) {
    columns = Split(args.columns, ',');
    for (const std::string& c : columns) {
      if (c.empty()) return UsageError(io, command, "--columns has an empty name");
    }
  }
  const bool parquet = parquet::LooksLikeParquetFile(args.file);
  if (args.schema) {
    if (parquet) {
      Result<parquet::ParquetFileInfo> info = parquet::ReadParquetInfo(args.file);
      if (!info.ok()) return ReportError(io, command, info.status());
      PrintParquetSchema(*info, args.file, io.out);
      return kExitOk;
    }
  }
  std::unique_ptr<TableReader> reader;
  parquet::TextOptions text;
  if (parquet) {
    parquet::ParquetReadOptions options;
    options.columns = columns;
    options.keep_time_unit = true;
    options.batch_rows = 8192;
    Result<std::unique_ptr<TableReader>> r = parquet::OpenParquetTable(args.file, options);
    // InvalidArgument here is a --columns name the file lacks (a usage
    // error, as for CSV below); damage is Corruption.
    if (!r.ok()) return ReportOptionError(io, command, r.status());
    reader = std::move(*r);
    text.times_in_ns = false;
  } else {
    csv::CsvOptions options;
    Result<std::unique_ptr<TableReader>> r = csv::OpenCsvTable(args.file, options);
    if (!r.ok()) return ReportError(io, command, r.status());
    reader = std::move(*r);
  }
  // Column selection (Parquet projects while reading; CSV here).
  const auto& infos = reader->columns();
  std::vector<std::size_t> pick;
  if (parquet || columns.empty()) {
    for (std::size_t i = 0; i < infos.size(); ++i) pick.push_back(i);
  } else {
    for (const std::string& c : columns) {
      std::size_t i = 0;
      while (i < infos.size() && infos[i].name != c) ++i;
      if (i == infos.size())
        return UsageError(io, command, args.file + ": no column named '" + c + "'");
      pick.push_back(i);
    }
  }
  if (args.schema) {
    io.out << "file: " << args.file << "\ncolumns:\n";
    for (std::size_t i : pick)
      io.out << "  " << infos[i].name << ": " << ValueKindName(infos[i].kind) << "\n";
    return kExitOk;
  }
  std::vector<TableColumnInfo> schema;
  for (std::size_t i : pick) schema.push_back(infos[i]);
  tableio::TableOutputOptions out_options;
  out_options.times_in_ns = text.times_in_ns;
  Result<std::unique_ptr<tableio::TableOutput>> out =
      OpenOutput(output, schema, io.out, out_options);
  if (!out.ok()) return ReportError(io, command, out.status());
  long long printed = 0;
  TableBatch batch;
  TableBatch picked;
  while (args.limit < 0 || printed < args.limit) {
    Result<bool> got = reader->Next(&batch);
    if (!got.ok()) {
      // Standard output keeps the rows printed so far; a file is not written.
      if (output.out == "-") (void)(*out)->Close();
      return ReportError(io, command, got.status());
    }
    if (batch.rows == 0) break;
    std::size_t rows = batch.rows;
    if (args.limit >= 0 && static_cast<long long>(rows) > args.limit - printed) {
      rows = static_cast<std::size_t>(args.limit - printed);
    }
    picked.rows = rows;
    picked.columns.resize(pick.size());
    for (std::size_t j = 0; j < pick.size(); ++j) {
      TableColumn& c = picked.columns[j];
      c = std::move(batch.columns[pick[j]]);
      c.valid.resize(rows);
      if (!c.ints.empty()) c.ints.resize(rows);
      if (!c.doubles.empty()) c.doubles.resize(rows);
      if (!c.strings.empty()) c.strings.resize(rows);
    }
    Status s = (*out)->Write(picked);
    if (!s.ok()) return ReportError(io, command, s);
    printed += static_cast<long long>(rows);
  }
  Status closed = (*out)->Close();
  if (!closed.ok()) return ReportError(io, command, closed);
  return kExitOk;
}

}  // namespace

void AddCatCommand(CLI::App& root, CommandIo& io, Action& action) {
  auto args = std::make_shared<CatArgs>();
  CLI::App* sub = root.add_subcommand(
      "cat", "Print a Parquet or CSV file as JSON lines or CSV (or its schema)");
  sub->add_option("file", args->file, "Parquet or CSV file")->required();
  sub->add_flag("--schema", args->schema,
                "Print columns (physical/logical types), row groups, codecs and encodings");
  sub->add_option("--columns", args->columns, "Comma-separated columns to print, in this order");
  sub->add_option("--limit", args->limit, "Print at most N rows")->check(CLI::NonNegativeNumber);
  AddOutputOptions(*sub, args->output, "rows (default: JSON lines on standard output)",
                   /*required=*/false);
  sub->callback([args, &io, &action] { action = [args, &io] { return RunCat(*args, io); }; });
}

}  // namespace mh::app
