#include "replay/table_file.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "core/strings.h"
#include "net/http_get.h"

#if __has_include("parquet/parquet_reader.h")
#include "parquet/parquet_reader.h"
#endif

namespace mh::replay {
namespace {

// Parquet input, through src/parquet when it is built in (the header exists).
#if __has_include("parquet/parquet_reader.h")
parquet::ParquetReadOptions ParquetOptions(const std::string& name,
                                           const TableFileOptions& options) {
  parquet::ParquetReadOptions p;
  p.batch_rows = options.batch_rows;
  p.source_name = name;
  return p;
}

Result<std::unique_ptr<TableReader>> OpenParquetFile(const std::string& path,
                                                     const TableFileOptions& options) {
  return parquet::OpenParquetTable(path, ParquetOptions(path, options));
}

Result<std::unique_ptr<TableReader>> OpenParquetBytes(std::string bytes, const std::string& name,
                                                      const TableFileOptions& options) {
  return parquet::OpenParquetTableFromBuffer(std::move(bytes), ParquetOptions(name, options));
}
#else
Result<std::unique_ptr<TableReader>> OpenParquetFile(const std::string& path,
                                                     const TableFileOptions& /*options*/) {
  return Status::NotSupported(path + ": parquet support not built");
}

Result<std::unique_ptr<TableReader>> OpenParquetBytes(std::string /*bytes*/,
                                                      const std::string& name,
                                                      const TableFileOptions& /*options*/) {
  return Status::NotSupported(name + ": parquet support not built");
}
#endif

}  // namespace

bool IsHttpUrl(std::string_view s) { return net::IsHttpUrl(s); }

std::string RedactUrl(std::string_view s) { return net::RedactUrl(s); }

Result<std::string> FetchUrl(const std::string& url, const TableFileOptions& options) {
  net::HttpGetOptions get;
  get.timeout = options.http_timeout;
  get.max_body_bytes = options.max_download_bytes;
  return net::FetchBody(url, get);
}

Result<std::unique_ptr<TableReader>> OpenTableBytes(std::string bytes, const std::string& name,
                                                    const TableFileOptions& options) {
  if (IsParquetBytes(bytes, name)) return OpenParquetBytes(std::move(bytes), name, options);
  csv::CsvOptions csv = options.csv;
  csv.source_name = name;
  return csv::OpenCsvTableFromBuffer(std::move(bytes), csv);
}

bool IsParquetBytes(std::string_view bytes, std::string_view name) {
  const std::string path = AsciiLower(name.substr(0, name.find('?')));
  return bytes.substr(0, 4) == "PAR1" ||
         (bytes.size() >= 4 && bytes.substr(bytes.size() - 4) == "PAR1") ||
         EndsWith(path, ".parquet");
}

bool IsParquetFile(const std::string& path) {
#if __has_include("parquet/parquet_reader.h")
  return parquet::LooksLikeParquetFile(path);
#else
  if (EndsWith(path, ".parquet")) return true;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {0, 0, 0, 0};
  in.read(magic, 4);
  return in.gcount() == 4 && std::string_view(magic, 4) == "PAR1";
#endif
}

Result<std::unique_ptr<TableReader>> OpenTableFile(const std::string& path_or_url,
                                                   const TableFileOptions& options) {
  if (IsHttpUrl(path_or_url)) {
    MH_ASSIGN_OR_RETURN(std::string body, FetchUrl(path_or_url, options));
    return OpenTableBytes(std::move(body), RedactUrl(path_or_url), options);
  }
  // Checked first: a directory opens as a stream on Linux and then reads
  // as an empty or oversized file in the format readers.
  std::error_code ec;
  if (std::filesystem::is_directory(path_or_url, ec)) {
    return Status::InvalidArgument(path_or_url + ": is a directory");
  }
  if (!std::ifstream(path_or_url, std::ios::binary)) {
    return Status::NotFound(path_or_url + ": cannot open file");
  }
  if (IsParquetFile(path_or_url)) return OpenParquetFile(path_or_url, options);
  csv::CsvOptions csv = options.csv;
  csv.source_name = path_or_url;
  return csv::OpenCsvTable(path_or_url, csv);
}

}  // namespace mh::replay
