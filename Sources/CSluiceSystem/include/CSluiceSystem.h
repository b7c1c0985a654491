// The few Linux system interfaces Swift's Glibc module does not bring in: signalfd, ppoll, and
// the TUN ioctl request and flags (macros, which Swift cannot import). See FIELD-NOTES.md.
#ifndef CSLUICE_SYSTEM_H
#define CSLUICE_SYSTEM_H

#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <netinet/in.h>

/// TUNSETIFF: attach the descriptor to a named TUN/TAP device (<linux/if_tun.h>).
static const unsigned long sluice_TUNSETIFF = TUNSETIFF;
/// IFF_TUN: layer-3 device (raw IP packets).
static const short sluice_IFF_TUN = IFF_TUN;
/// IFF_NO_PI: no 4-byte packet-information prefix before each packet.
static const short sluice_IFF_NO_PI = IFF_NO_PI;
/// IFF_VNET_HDR: each packet read or written starts with a struct virtio_net_hdr (offload mode).
static const short sluice_IFF_VNET_HDR = IFF_VNET_HDR;
/// TUNSETOFFLOAD: which offloads the reader handles (TUN_F_* flags).
static const unsigned long sluice_TUNSETOFFLOAD = TUNSETOFFLOAD;
/// TUN_F_CSUM: the reader completes partial checksums (VIRTIO_NET_HDR_F_NEEDS_CSUM).
static const unsigned sluice_TUN_F_CSUM = TUN_F_CSUM;
/// TUN_F_TSO4: the reader takes TCP/IPv4 super-segments (VIRTIO_NET_HDR_GSO_TCPV4).
static const unsigned sluice_TUN_F_TSO4 = TUN_F_TSO4;
/// IFNAMSIZ: interface name buffer, including the terminating NUL.
static const int sluice_IFNAMSIZ = IFNAMSIZ;
/// sizeof(struct ifreq).
static const int sluice_ifreq_size = (int)sizeof(struct ifreq);

/// ppoll(2) with a timeout in nanoseconds (negative: wait forever). ppoll needs _GNU_SOURCE,
/// which Swift's Glibc module is not built with.
int sluice_poll_nanoseconds(struct pollfd *fds, unsigned long count, long long timeout_ns);

/// The most datagrams one sluice_recv_batch / sluice_send_batch call moves.
#define SLUICE_BATCH_MAX 64

/// recvmmsg(2) (needs _GNU_SOURCE) over `count` (at most SLUICE_BATCH_MAX) slots of
/// `slot_size` bytes laid out back to back from `storage`, nonblocking: the length of each
/// datagram goes to `lengths[i]` and, when `from` is not NULL, its source to `from[i]`.
/// Returns the number of datagrams (0 when none waits), or -1 with errno set.
int sluice_recv_batch(int fd, void *storage, unsigned long slot_size, unsigned count,
                      unsigned *lengths, struct sockaddr_in *from);

/// sendmmsg(2) of `count` (at most SLUICE_BATCH_MAX) datagrams, slot `i` holding `lengths[i]`
/// bytes, to `to[i]` when `to` is not NULL (else the connected peer). Returns how many left
/// (0 when the first would block), or -1 with errno set when the first failed otherwise.
int sluice_send_batch(int fd, const void *storage, unsigned long slot_size, unsigned count,
                      const unsigned *lengths, const struct sockaddr_in *to);

/// ioctl(fd, TUNSETOFFLOAD, flags): the argument is the flags value itself, not a pointer.
int sluice_tun_set_offload(int fd, unsigned flags);

/// Waits up to `timeout_ms` milliseconds for the interface `name` to be running (SIOCGIFFLAGS:
/// IFF_UP and IFF_RUNNING), polling once a millisecond. Returns 1 when it runs (then after one
/// more millisecond, see TUNDevice.awaitCarrier), 0 when it is administratively down (nothing to
/// wait for) or still not running at the timeout, -1 with errno set when it cannot be asked.
int sluice_await_interface_running(const char *name, int timeout_ms);

/// prctl(PR_SET_TIMERSLACK, nanoseconds) for the calling thread: how late the kernel may wake a
/// sleeping ppoll (default 50 µs), which a pacing run loop feels. Returns 0 or -1.
int sluice_set_timer_slack(unsigned long nanoseconds);

/// Asks the scheduler for a short time slice for the calling thread (EEVDF's per-task slice,
/// Linux >= 6.12: sched_setattr with sched_runtime for a SCHED_OTHER or SCHED_BATCH thread; no
/// privilege is needed). A thread with a slice shorter than the running task's preempts it when
/// it wakes up (and gets an earlier virtual deadline), instead of waiting until that task's
/// slice ends: what a pacing run loop that sleeps between segments needs. Policy, nice value
/// and reset-on-fork stay as they are (read first with sched_getattr). The kernel clamps the
/// slice to 0.1-100 ms. Returns the slice now in effect in nanoseconds as read back (so a
/// kernel that accepts the call but has no per-task slice, before 6.12, returns its default or
/// 0), 0 for a thread of another policy (real-time or SCHED_IDLE: left alone), -1 with errno
/// when the call is refused (ENOSYS, EPERM, EINVAL).
long long sluice_set_scheduler_slice(unsigned long long nanoseconds);

/// An epoll descriptor (close-on-exec) that is readable while `a` or `b` is: one descriptor a
/// poll loop can wait on for two sockets (sluice-relay's two UDP links). -1 with errno on error.
int sluice_epoll_readable_pair(int a, int b);

#endif
