#pragma once

#include <cstdio>
#include <cstdlib>

/// PSTABLE_ASSERT checks internal invariants (never user input: that raises pstable::Error).
/// It is active unless NDEBUG is defined, or always when PSTABLE_ENABLE_ASSERTS is defined.
#if !defined(NDEBUG) || defined(PSTABLE_ENABLE_ASSERTS)
#define PSTABLE_ASSERT(cond)                                                                    \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::fprintf(stderr, "pstable: internal assertion failed: %s (%s:%d)\n", #cond, __FILE__, \
                   __LINE__);                                                                   \
      std::abort();                                                                             \
    }                                                                                           \
  } while (0)
#else
#define PSTABLE_ASSERT(cond) ((void)0)
#endif
