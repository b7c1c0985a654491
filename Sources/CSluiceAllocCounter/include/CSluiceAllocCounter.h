#ifndef CSLUICE_ALLOC_COUNTER_H
#define CSLUICE_ALLOC_COUNTER_H

#include <stdint.h>

/// Heap allocations made by the process so far (malloc, calloc, realloc, posix_memalign,
/// aligned_alloc, memalign calls). Linking this target into an executable interposes those
/// functions (glibc only) with wrappers that count and forward to glibc's own
/// (`__libc_malloc` ...), so `sluice-bench` can report allocations per segment. Returns
/// UINT64_MAX where counting is not available.
uint64_t sluice_allocation_count(void);

#endif
