#include "http/embedded_files.h"

namespace mh::http {

const EmbeddedFile* FindEmbeddedFile(std::string_view path) {
  for (std::size_t i = 0; i < kEmbeddedFileCount; ++i) {
    if (path == kEmbeddedFiles[i].path) return &kEmbeddedFiles[i];
  }
  return nullptr;
}

}  // namespace mh::http
