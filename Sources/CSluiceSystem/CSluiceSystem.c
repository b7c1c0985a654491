#define _GNU_SOURCE
#include "CSluiceSystem.h"
#include <stddef.h>
#include <time.h>

// The TUN driver fills a struct ifreq by offsets: the name first, then the flags.
_Static_assert(offsetof(struct ifreq, ifr_name) == 0, "ifr_name at offset 0");
_Static_assert(offsetof(struct ifreq, ifr_flags) == IFNAMSIZ, "ifr_flags right after the name");
_Static_assert(sizeof(((struct ifreq *)0)->ifr_flags) == 2, "ifr_flags is a short");

int sluice_poll_nanoseconds(struct pollfd *fds, unsigned long count, long long timeout_ns) {
    if (timeout_ns < 0) return ppoll(fds, (nfds_t)count, NULL, NULL);
    struct timespec ts = { .tv_sec = timeout_ns / 1000000000LL, .tv_nsec = timeout_ns % 1000000000LL };
    return ppoll(fds, (nfds_t)count, &ts, NULL);
}
