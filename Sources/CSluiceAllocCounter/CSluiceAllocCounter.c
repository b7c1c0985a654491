// Counts heap allocations by interposing the allocator entry points in the executable that
// links this file (symbols of the executable take precedence over libc's for every library).
// Each wrapper adds one to a relaxed atomic counter and calls glibc's implementation.
#define _GNU_SOURCE
#include "CSluiceAllocCounter.h"
#include <stddef.h>
#include <errno.h>

#if defined(__GLIBC__)
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static uint64_t allocations = 0;

static inline void count(void) { __atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED); }

void *malloc(size_t n) { count(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t alignment, size_t n) { count(); return __libc_memalign(alignment, n); }
void *aligned_alloc(size_t alignment, size_t n) { count(); return __libc_memalign(alignment, n); }
int posix_memalign(void **out, size_t alignment, size_t n) {
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
    count();
    void *p = __libc_memalign(alignment, n);
    if (!p && n != 0) return ENOMEM;
    *out = p;
    return 0;
}

uint64_t sluice_allocation_count(void) { return __atomic_load_n(&allocations, __ATOMIC_RELAXED); }
#else
uint64_t sluice_allocation_count(void) { return UINT64_MAX; }
#endif
