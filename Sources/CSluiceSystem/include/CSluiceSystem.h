// The few Linux system interfaces Swift's Glibc module does not bring in: signalfd, ppoll, and
// the TUN ioctl request and flags (macros, which Swift cannot import). See FIELD-NOTES.md.
#ifndef CSLUICE_SYSTEM_H
#define CSLUICE_SYSTEM_H

#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>

/// TUNSETIFF: attach the descriptor to a named TUN/TAP device (<linux/if_tun.h>).
static const unsigned long sluice_TUNSETIFF = TUNSETIFF;
/// IFF_TUN: layer-3 device (raw IP packets).
static const short sluice_IFF_TUN = IFF_TUN;
/// IFF_NO_PI: no 4-byte packet-information prefix before each packet.
static const short sluice_IFF_NO_PI = IFF_NO_PI;
/// IFNAMSIZ: interface name buffer, including the terminating NUL.
static const int sluice_IFNAMSIZ = IFNAMSIZ;
/// sizeof(struct ifreq).
static const int sluice_ifreq_size = (int)sizeof(struct ifreq);

/// ppoll(2) with a timeout in nanoseconds (negative: wait forever). ppoll needs _GNU_SOURCE,
/// which Swift's Glibc module is not built with.
int sluice_poll_nanoseconds(struct pollfd *fds, unsigned long count, long long timeout_ns);

#endif
