// Random-access byte sources for the reader: a file (pread) or a buffer.
//
// Thread safety: Read may be called from several threads at once (a file is
// read with pread, a buffer only copied from); nothing else changes a source.
#ifndef MH_PARQUET_INTERNAL_SOURCE_H_
#define MH_PARQUET_INTERNAL_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace mh::parquet::internal {

class Source {
 public:
  virtual ~Source() = default;
  // Total size in bytes.
  virtual std::int64_t size() const = 0;
  // Reads exactly n bytes at offset into *out (the caller checked the range
  // lies inside the source); IOError on failure.
  virtual Status Read(std::int64_t offset, std::size_t n, std::string* out) = 0;
  // The n bytes at offset (the caller checked the range lies inside the
  // source) without a copy, valid as long as the source, when the source
  // holds them in memory (a buffer); else empty, and Read is used.
  virtual std::string_view View(std::int64_t /*offset*/, std::size_t /*n*/) const { return {}; }
  // The name used in messages (path or source name).
  virtual const std::string& name() const = 0;
};

// NotFound when the file does not exist, IOError otherwise. The file is read
// with pread, never memory-mapped (View is empty): a file truncated while it
// is read gives IOError "<path>: read at offset N failed: end of file (...
// truncated while being read)", where a mapping would die of SIGBUS.
Result<std::unique_ptr<Source>> OpenFileSource(const std::string& path);
std::unique_ptr<Source> MakeBufferSource(std::string bytes, std::string name);

}  // namespace mh::parquet::internal

#endif  // MH_PARQUET_INTERNAL_SOURCE_H_
