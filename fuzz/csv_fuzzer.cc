// Fuzz target for the CSV reader (csv/csv_reader.h) and the date-time
// parsers. The first byte picks options (delimiter, decimal mark, header,
// time zone, bad-cell policy, given types); the rest is the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "csv/csv_reader.h"
#include "csv/datetime_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

  // The date-time parsers on the raw text, line by line.
  std::string_view rest = text;
  for (int i = 0; i < 64 && !rest.empty(); ++i) {
    const std::size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    (void)mh::csv::ParseDate(line);
    (void)mh::csv::ParseTimeOfDay(line);
    (void)mh::csv::ParseDateTime(line);
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }

  mh::csv::CsvOptions options;
  static constexpr char kDelimiters[] = {'\0', ',', ';', '\t'};
  options.delimiter = kDelimiters[flags & 3];
  options.decimal_mark = (flags & 4) != 0 ? '\0' : (options.delimiter == ',' ? '.' : ',');
  options.header = (flags & 8) == 0;
  options.time_zone = (flags & 16) != 0 ? "Europe/Stockholm" : "UTC";
  options.bad_cells_as_null = (flags & 32) != 0;
  options.infer_rows = (flags & 64) != 0 ? 2 : 1000;
  options.batch_rows = 7;
  if ((flags & 128) != 0) {
    options.column_types = {{"column_1", mh::ValueKind::kTimestamp}};
    options.header = false;
  }
  options.source_name = "fuzz.csv";
  auto reader = mh::csv::OpenCsvTableFromBuffer(text, options);
  if (!reader.ok()) return 0;
  mh::TableBatch batch;
  for (int i = 0; i < 100000; ++i) {
    auto more = (*reader)->Next(&batch);
    if (!more.ok() || batch.rows == 0) break;
    for (const auto& c : batch.columns) {
      if (c.valid.size() != batch.rows) __builtin_trap();
    }
  }
  return 0;
}
