// Files written whole or not at all.
//
// Thread safety: free functions; two writers of one path race (the last
// rename wins), each file is always complete.
#ifndef MH_CORE_FILE_UTIL_H_
#define MH_CORE_FILE_UTIL_H_

#include <string>
#include <string_view>

#include "core/status.h"

namespace mh {

// Writes `bytes` to "<path>.tmp", flushes it to disk (fsync), then renames
// it to `path` and syncs the folder: a reader sees the old file or the new
// one, never a part.
// IOError naming the file and the system's reason; the temporary file is
// removed on failure.
Status WriteFileAtomic(const std::string& path, std::string_view bytes);

// Renames the complete file `tmp` to `path`, replacing a file there
// atomically (a reader sees the old file or the new one). An existing regular
// file is swapped with `tmp` (renameat2 RENAME_EXCHANGE) and then removed, not
// renamed over: ext4 flushes a file renamed over another to disk right away
// (auto_da_alloc), which costs milliseconds per megabyte. Falls back to
// rename where exchange is not supported. False with errno set on failure
// (`tmp` is then left in place).
bool ReplaceFile(const std::string& tmp, const std::string& path);

}  // namespace mh

#endif  // MH_CORE_FILE_UTIL_H_
