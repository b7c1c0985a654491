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
