// Calls that need _GNU_SOURCE, which a Swift-imported header cannot set.
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include "CShoal.h"

#ifndef STATX_DIOALIGN
#define STATX_DIOALIGN 0x00002000U
#endif

int shoal_dio_alignment(int fd, uint32_t *memory_alignment, uint32_t *offset_alignment) {
    struct statx stx;
    memset(&stx, 0, sizeof(stx));
    if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) != 0) {
        return -1;
    }
    if (!(stx.stx_mask & STATX_DIOALIGN) || stx.stx_dio_mem_align == 0) {
        return 1;
    }
    *memory_alignment = stx.stx_dio_mem_align;
    *offset_alignment = stx.stx_dio_offset_align;
    return 0;
}

int shoal_fallocate(int fd, int mode, int64_t offset, int64_t length) {
    return fallocate(fd, mode, (off_t)offset, (off_t)length);
}

int shoal_o_direct(void) {
    return O_DIRECT;
}

int shoal_block_device_size(int fd, uint64_t *size) {
    return ioctl(fd, BLKGETSIZE64, size);
}

int shoal_is_main_thread(void) {
    return (pid_t)syscall(SYS_gettid) == getpid();
}

void shoal_set_thread_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof(truncated) - 1);
    truncated[sizeof(truncated) - 1] = 0;
    pthread_setname_np(pthread_self(), truncated);
}

int shoal_accept_nonblocking(int fd, struct sockaddr *address, socklen_t *length) {
    return accept4(fd, address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

// Signals: counts and one eventfd, written by the handler.
#define SHOAL_SIGNAL_LIMIT 65
static uint64_t shoal_signal_counts[SHOAL_SIGNAL_LIMIT];
static int shoal_signal_fd = -1;
static struct sigaction shoal_signal_previous[SHOAL_SIGNAL_LIMIT];

static void shoal_signal_handler(int signo) {
    int saved = errno;
    if (signo > 0 && signo < SHOAL_SIGNAL_LIMIT) {
        __atomic_fetch_add(&shoal_signal_counts[signo], 1, __ATOMIC_SEQ_CST);
    }
    int fd = __atomic_load_n(&shoal_signal_fd, __ATOMIC_SEQ_CST);
    if (fd >= 0) {
        uint64_t one = 1;
        ssize_t written = write(fd, &one, sizeof(one));
        (void)written;
    }
    errno = saved;
}

int shoal_signal_watch(int signo) {
    if (signo <= 0 || signo >= SHOAL_SIGNAL_LIMIT) {
        errno = EINVAL;
        return -1;
    }
    if (__atomic_load_n(&shoal_signal_fd, __ATOMIC_SEQ_CST) < 0) {
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) return -1;
        int expected = -1;
        if (!__atomic_compare_exchange_n(&shoal_signal_fd, &expected, fd, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            close(fd);
        }
    }
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = shoal_signal_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    return sigaction(signo, &action, &shoal_signal_previous[signo]);
}

int shoal_signal_unwatch(int signo) {
    if (signo <= 0 || signo >= SHOAL_SIGNAL_LIMIT) {
        errno = EINVAL;
        return -1;
    }
    return sigaction(signo, &shoal_signal_previous[signo], NULL);
}

uint64_t shoal_signal_count(int signo) {
    if (signo <= 0 || signo >= SHOAL_SIGNAL_LIMIT) return 0;
    return __atomic_load_n(&shoal_signal_counts[signo], __ATOMIC_SEQ_CST);
}

int shoal_signal_eventfd(void) {
    return __atomic_load_n(&shoal_signal_fd, __ATOMIC_SEQ_CST);
}
