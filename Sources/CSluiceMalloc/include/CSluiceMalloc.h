#ifndef CSLUICE_MALLOC_H
#define CSLUICE_MALLOC_H

#include <stddef.h>

/// Bytes in use by the program according to glibc's allocator (`mallinfo2().uordblks`,
/// mmapped chunks included: `hblkhd`). Measures heap bytes per connection in the harness and
/// `sluice-bench scale`; 0 where mallinfo2 is not available.
size_t sluice_heap_in_use(void);

/// Returns freed heap memory to the system (`malloc_trim(0)`); 1 if some was released.
int sluice_heap_trim(void);

/// The process's resident set in bytes (from /proc/self/statm), 0 if unreadable.
size_t sluice_resident_bytes(void);

#endif
