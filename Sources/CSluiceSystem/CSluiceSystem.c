#define _GNU_SOURCE
#include "CSluiceSystem.h"
#include <stddef.h>
#include <time.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <sched.h>
#include <sys/syscall.h>

// The TUN driver fills a struct ifreq by offsets: the name first, then the flags.
_Static_assert(offsetof(struct ifreq, ifr_name) == 0, "ifr_name at offset 0");
_Static_assert(offsetof(struct ifreq, ifr_flags) == IFNAMSIZ, "ifr_flags right after the name");
_Static_assert(sizeof(((struct ifreq *)0)->ifr_flags) == 2, "ifr_flags is a short");
// The offload mode writes struct virtio_net_hdr by offsets (TUNOffload.swift): 10 bytes.
#include <linux/virtio_net.h>
_Static_assert(sizeof(struct virtio_net_hdr) == 10, "virtio_net_hdr is 10 bytes");
_Static_assert(offsetof(struct virtio_net_hdr, gso_size) == 4, "gso_size at 4");
_Static_assert(offsetof(struct virtio_net_hdr, csum_start) == 6, "csum_start at 6");
_Static_assert(VIRTIO_NET_HDR_F_NEEDS_CSUM == 1 && VIRTIO_NET_HDR_GSO_TCPV4 == 1, "virtio flags");

int sluice_poll_nanoseconds(struct pollfd *fds, unsigned long count, long long timeout_ns) {
    if (timeout_ns < 0) return ppoll(fds, (nfds_t)count, NULL, NULL);
    struct timespec ts = { .tv_sec = timeout_ns / 1000000000LL, .tv_nsec = timeout_ns % 1000000000LL };
    return ppoll(fds, (nfds_t)count, &ts, NULL);
}

// One message per slot of `storage` (slot i at i * slot_size), each with one iovec of
// `lengths[i]` bytes (or the whole slot when `lengths` is NULL) and, when `addresses` is not
// NULL, the address `addresses[i]`. `count` is at most SLUICE_BATCH_MAX.
static void sluice_fill_messages(struct mmsghdr *messages, struct iovec *vectors, const void *storage,
                                 unsigned long slot_size, unsigned count, const unsigned *lengths,
                                 const struct sockaddr_in *addresses) {
    memset(messages, 0, sizeof(struct mmsghdr) * count);
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = (char *)storage + (size_t)i * slot_size;
        vectors[i].iov_len = lengths ? lengths[i] : slot_size;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        if (addresses) {
            messages[i].msg_hdr.msg_name = (void *)&addresses[i];
            messages[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
        }
    }
}

int sluice_recv_batch(int fd, void *storage, unsigned long slot_size, unsigned count,
                      unsigned *lengths, struct sockaddr_in *from) {
    struct mmsghdr messages[SLUICE_BATCH_MAX];
    struct iovec vectors[SLUICE_BATCH_MAX];
    if (count > SLUICE_BATCH_MAX) count = SLUICE_BATCH_MAX;
    sluice_fill_messages(messages, vectors, storage, slot_size, count, NULL, from);
    int n;
    do { n = recvmmsg(fd, messages, count, MSG_DONTWAIT, NULL); } while (n < 0 && errno == EINTR);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    for (int i = 0; i < n; i++) lengths[i] = messages[i].msg_len;
    return n;
}

int sluice_send_batch(int fd, const void *storage, unsigned long slot_size, unsigned count,
                      const unsigned *lengths, const struct sockaddr_in *to) {
    struct mmsghdr messages[SLUICE_BATCH_MAX];
    struct iovec vectors[SLUICE_BATCH_MAX];
    if (count > SLUICE_BATCH_MAX) count = SLUICE_BATCH_MAX;
    sluice_fill_messages(messages, vectors, storage, slot_size, count, lengths, to);
    int n;
    do { n = sendmmsg(fd, messages, count, MSG_DONTWAIT); } while (n < 0 && errno == EINTR);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    return n;
}

int sluice_set_timer_slack(unsigned long nanoseconds) {
    return prctl(PR_SET_TIMERSLACK, nanoseconds, 0, 0, 0);
}

// struct sched_attr as in <linux/sched/types.h> (SCHED_ATTR_SIZE_VER1, 56 bytes); glibc 2.36
// has neither the structure nor sched_setattr/sched_getattr wrappers.
struct sluice_sched_attr {
    unsigned int size, sched_policy;
    unsigned long long sched_flags;
    int sched_nice;
    unsigned int sched_priority;
    unsigned long long sched_runtime, sched_deadline, sched_period;
    unsigned int sched_util_min, sched_util_max;
};
_Static_assert(sizeof(struct sluice_sched_attr) == 56, "SCHED_ATTR_SIZE_VER1");
#ifndef SCHED_FLAG_RESET_ON_FORK
#define SCHED_FLAG_RESET_ON_FORK 0x01   // <linux/sched.h>, whose CLONE_* clash with <sched.h>'s
#endif

long long sluice_set_scheduler_slice(unsigned long long nanoseconds) {
    struct sluice_sched_attr attr;
    memset(&attr, 0, sizeof attr);
    if (syscall(SYS_sched_getattr, 0, &attr, (unsigned)sizeof attr, 0) != 0) return -1;
    if (attr.sched_policy != SCHED_OTHER && attr.sched_policy != SCHED_BATCH) return 0;
    attr.size = sizeof attr;
    attr.sched_flags &= SCHED_FLAG_RESET_ON_FORK;   // not the utilization clamps
    attr.sched_runtime = nanoseconds;
    attr.sched_deadline = 0;
    attr.sched_period = 0;
    if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0) return -1;
    memset(&attr, 0, sizeof attr);
    if (syscall(SYS_sched_getattr, 0, &attr, (unsigned)sizeof attr, 0) != 0) return -1;
    return (long long)attr.sched_runtime;
}

int sluice_tun_set_offload(int fd, unsigned flags) {
    return ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags);
}

int sluice_await_interface_running(const char *name, int timeout_ms) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    int result = 0;
    for (int waited = 0; ; waited++) {
        if (ioctl(fd, SIOCGIFFLAGS, &request) < 0) { result = -1; break; }
        if (!(request.ifr_flags & IFF_UP)) break;
        if (request.ifr_flags & IFF_RUNNING) { result = 1; break; }
        if (waited >= timeout_ms) break;
        struct timespec millisecond = {0, 1000000};
        nanosleep(&millisecond, NULL);
    }
    if (result == 1) {
        // The link watcher sets the operational state (IFF_RUNNING) just before it attaches the
        // device's queueing discipline (linkwatch_do_dev: rfc2863_policy, then dev_activate).
        struct timespec millisecond = {0, 1000000};
        nanosleep(&millisecond, NULL);
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return result;
}

int sluice_epoll_readable_pair(int a, int b) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) return -1;
    int fds[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        struct epoll_event event = {0};
        event.events = EPOLLIN;
        event.data.fd = fds[i];
        if (epoll_ctl(fd, EPOLL_CTL_ADD, fds[i], &event) != 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
    }
    return fd;
}
