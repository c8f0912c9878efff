// Memory hints for large, freshly allocated buffers.
//
// Thread safety: any thread; the hint changes only how the kernel backs the
// given pages, never their contents.
#ifndef MH_CORE_MEMORY_H_
#define MH_CORE_MEMORY_H_

#include <cstddef>

namespace mh {

// Asks the kernel to back the whole 2 MiB pages inside [data, data + bytes)
// with transparent huge pages (Linux madvise MADV_HUGEPAGE; the system
// default here is "madvise"), so that filling a buffer of many megabytes
// takes a few page faults instead of one per 4 KiB. Call it after reserving
// and before the first write. Does nothing for buffers under 4 MiB, off
// Linux, or when the kernel refuses (the hint is best effort).
void AdviseHugePages(const void* data, std::size_t bytes);

}  // namespace mh

#endif  // MH_CORE_MEMORY_H_
