// Opens a data table from a local path or an http(s) URL, choosing the
// format: Parquet when the bytes start with "PAR1" or the name (without a
// URL's query) ends in ".parquet", otherwise CSV.
//
// URLs are fetched whole into memory with net::FetchBody (redirects followed,
// TLS verified against the system CA store). The query string of a URL (an
// Azure Blob SAS token, for instance) is a secret: it never appears in a
// message; see RedactUrl.
//
// Thread safety: free functions; the readers they return are single-threaded.
#ifndef MH_REPLAY_TABLE_FILE_H_
#define MH_REPLAY_TABLE_FILE_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/table.h"
#include "csv/csv_reader.h"

namespace mh::replay {

struct TableFileOptions {
  // How CSV input is read (dialect, types, time zone).
  csv::CsvOptions csv;
  // Rows per batch for Parquet input.
  std::size_t batch_rows = 8192;
  // HTTP: connect and read timeouts; largest body accepted.
  std::chrono::seconds http_timeout{30};
  std::size_t max_download_bytes = std::size_t{1} << 31;
};

// True for "http://..." and "https://..." (case-insensitive scheme).
bool IsHttpUrl(std::string_view path_or_url);

// The URL with everything from the first '?' replaced by "?<redacted>"; other
// text unchanged.
std::string RedactUrl(std::string_view path_or_url);

// Downloads a URL into memory. InvalidArgument for a malformed URL,
// Unavailable when the server cannot be reached or answers 5xx, NotFound for
// 404, IOError for other statuses or an oversized body. Messages carry the
// redacted URL only.
Result<std::string> FetchUrl(const std::string& url, const TableFileOptions& options);

// Opens bytes already in memory; `name` (a path or redacted URL) is used for
// messages and the extension check. NotSupported for Parquet when the
// Parquet reader is not built in.
Result<std::unique_ptr<TableReader>> OpenTableBytes(std::string bytes, const std::string& name,
                                                    const TableFileOptions& options);

// True when bytes in memory named `name` (a path or URL; a query is ignored)
// are read as Parquet: "PAR1" at their start or end, or a ".parquet" name.
bool IsParquetBytes(std::string_view bytes, std::string_view name);

// True when the local file `path` is read as Parquet (parquet::LooksLikeParquetFile:
// "PAR1" at its start or end, or a name ending in ".parquet"), so that a
// damaged Parquet file is reported by the Parquet reader.
bool IsParquetFile(const std::string& path);

// Opens a path or URL as above. NotFound when a file is missing,
// InvalidArgument "PATH: is a directory" for a directory; otherwise the
// errors of FetchUrl and of the format's reader.
Result<std::unique_ptr<TableReader>> OpenTableFile(const std::string& path_or_url,
                                                   const TableFileOptions& options);

}  // namespace mh::replay

#endif  // MH_REPLAY_TABLE_FILE_H_
