// MH_CHECK: a broken precondition is a bug; it aborts with file and line.
// Not for input validation (return a Status for that).
#ifndef MH_CORE_CHECK_H_
#define MH_CORE_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define MH_CHECK(cond)                                                              \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

#endif  // MH_CORE_CHECK_H_
