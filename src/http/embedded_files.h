// Web assets (web/*) compiled into the binary by cmake/embed_files.cmake
// (mh_embed_files), so the dashboard needs no files at run time.
//
// Thread safety: immutable data; read from any thread.
#ifndef MH_HTTP_EMBEDDED_FILES_H_
#define MH_HTTP_EMBEDDED_FILES_H_

#include <cstddef>
#include <string_view>

namespace mh::http {

// One embedded file.
struct EmbeddedFile {
  const char* path;  // URL path relative to web/, with a leading '/': "/app.js"
  const char* data;  // the file's bytes, followed by one NUL not counted in size
  std::size_t size;  // number of bytes
};

// Every embedded file (generated). kEmbeddedFileCount entries; when no file
// is embedded the array holds one {nullptr, nullptr, 0} entry that is not
// counted.
extern const EmbeddedFile kEmbeddedFiles[];
extern const std::size_t kEmbeddedFileCount;

// The embedded file at URL path `path` ("/app.js"), or nullptr.
const EmbeddedFile* FindEmbeddedFile(std::string_view path);

}  // namespace mh::http

#endif  // MH_HTTP_EMBEDDED_FILES_H_
