#include "replay/table_file.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <httplib.h>

#include "core/strings.h"

#if __has_include("parquet/parquet_reader.h")
#include "parquet/parquet_reader.h"
#endif

namespace mh::replay {
namespace {

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

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

bool IsHttpUrl(std::string_view s) {
  return StartsWithIgnoreCase(s, "http://") || StartsWithIgnoreCase(s, "https://");
}

std::string RedactUrl(std::string_view s) {
  const std::size_t q = s.find('?');
  if (q == std::string_view::npos) return std::string(s);
  return std::string(s.substr(0, q)) + "?<redacted>";
}

Result<std::string> FetchUrl(const std::string& url, const TableFileOptions& options) {
  const std::string shown = RedactUrl(url);
  if (!IsHttpUrl(url)) return Status::InvalidArgument(shown + ": not an http(s) url");
  const std::size_t scheme_end = url.find("://") + 3;
  const std::size_t path_start = url.find_first_of("/?#", scheme_end);
  const std::string origin = url.substr(0, path_start);
  std::string target = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (const std::size_t hash = target.find('#'); hash != std::string::npos) target.resize(hash);
  if (target.empty() || target.front() == '?') target.insert(0, "/");
  if (origin.size() <= scheme_end || origin.find('@') != std::string::npos) {
    return Status::InvalidArgument(shown + ": expected http(s)://host[:port]/path");
  }
  std::string body;
  bool too_big = false;
  try {
    httplib::Client client(origin);
    if (!client.is_valid()) return Status::InvalidArgument(shown + ": cannot use this url");
    client.set_follow_location(true);
    client.set_connection_timeout(options.http_timeout);
    client.set_read_timeout(options.http_timeout);
    auto res = client.Get(target, [&](const char* data, std::size_t len) {
      if (body.size() + len > options.max_download_bytes) {
        too_big = true;
        return false;
      }
      body.append(data, len);
      return true;
    });
    if (too_big) {
      return Status::IOError(shown + ": larger than the limit of " +
                             std::to_string(options.max_download_bytes) + " bytes");
    }
    if (!res) {
      return Status::Unavailable(shown + ": " + httplib::to_string(res.error()));
    }
    if (res->status == 404) return Status::NotFound(shown + ": http 404 not found");
    if (res->status >= 500) {
      return Status::Unavailable(shown + ": http " + std::to_string(res->status));
    }
    if (res->status != 200) return Status::IOError(shown + ": http " + std::to_string(res->status));
  } catch (const std::exception& e) {
    return Status::IOError(shown + ": " + e.what());
  }
  return body;
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
