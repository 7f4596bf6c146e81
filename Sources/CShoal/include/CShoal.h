// CShoal: the small piece of C that Swift needs to talk to the kernel.
//
// What lives here and why:
//  - syscall() is variadic, which Swift cannot call: the AIO system calls get
//    typed static inline wrappers (we call the kernel directly; libaio is
//    linked only so benchmarks can measure its io_getevents as a peer).
//  - The kernel's `struct aio_ring` is in no header, and its flexible array
//    member would not import into Swift anyway: the header is declared here,
//    events start at `ring + header_length`.
//  - Acquire/release accesses to ring memory shared with the kernel.
//  - A few calls that need _GNU_SOURCE (statx, fallocate) are compiled in
//    shim.c, where that macro can be set.
//
// <libaio.h> and <linux/aio_abi.h> define the same structs and cannot both be
// included; Shoal uses libaio's `struct iocb` and `struct io_event`.
#ifndef CSHOAL_H
#define CSHOAL_H

#include <libaio.h>
#include <stdint.h>
#include <stddef.h>
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <sys/vfs.h>
#include <sys/socket.h>

// MARK: - The AIO completion ring header (kernel: fs/aio.c, struct aio_ring)

/// The magic number the kernel stores in a valid ring header.
#define SHOAL_AIO_RING_MAGIC 0xa10a10a1u

/// The header the kernel places at the address an AIO context id names.
/// `head` is written by user space (or by the kernel inside io_getevents),
/// `tail` only by the kernel. Events (`struct io_event`) follow at
/// `header_length` bytes from the start.
struct shoal_aio_ring {
    unsigned id;
    unsigned nr;
    unsigned head;
    unsigned tail;
    unsigned magic;
    unsigned compat_features;
    unsigned incompat_features;
    unsigned header_length;
};

/// Loads a 32-bit ring index with acquire ordering: event slots written by the
/// kernel before it published `tail` are visible after this load.
static inline unsigned shoal_load_acquire_u32(const unsigned *p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/// Stores a 32-bit ring index with release ordering: our reads of the event
/// slots are complete before the kernel can see the slots handed back.
static inline void shoal_store_release_u32(unsigned *p, unsigned value) {
    __atomic_store_n(p, value, __ATOMIC_RELEASE);
}

/// Plain (relaxed) 32-bit load of ring memory.
static inline unsigned shoal_load_relaxed_u32(const unsigned *p) {
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

// MARK: - AIO system calls, made directly (no libaio in the path)

static inline int shoal_sys_io_setup(unsigned nr_events, unsigned long *ctx) {
    return (int)syscall(SYS_io_setup, nr_events, ctx);
}

static inline int shoal_sys_io_destroy(unsigned long ctx) {
    return (int)syscall(SYS_io_destroy, ctx);
}

static inline int shoal_sys_io_submit(unsigned long ctx, long nr, struct iocb **iocbs) {
    return (int)syscall(SYS_io_submit, ctx, nr, iocbs);
}

static inline int shoal_sys_io_cancel(unsigned long ctx, struct iocb *iocb, struct io_event *result) {
    return (int)syscall(SYS_io_cancel, ctx, iocb, result);
}

static inline int shoal_sys_io_getevents(unsigned long ctx, long min_nr, long nr,
                                         struct io_event *events, struct timespec *timeout) {
    return (int)syscall(SYS_io_getevents, ctx, min_nr, nr, events, timeout);
}

/// libaio's own io_getevents, for benchmarks that compare against it.
static inline int shoal_libaio_io_getevents(unsigned long ctx, long min_nr, long nr,
                                            struct io_event *events, struct timespec *timeout) {
    return io_getevents((io_context_t)ctx, min_nr, nr, events, timeout);
}

// MARK: - iocb and io_event fields as 64-bit integers

static inline void shoal_iocb_set_data(struct iocb *iocb, uint64_t data) {
    iocb->data = (void *)(uintptr_t)data;
}

static inline uint64_t shoal_iocb_data(const struct iocb *iocb) {
    return (uint64_t)(uintptr_t)iocb->data;
}

static inline uint64_t shoal_event_data(const struct io_event *event) {
    return (uint64_t)(uintptr_t)event->data;
}

static inline int64_t shoal_event_res(const struct io_event *event) {
    return (int64_t)event->res;
}

static inline int64_t shoal_event_res2(const struct io_event *event) {
    return (int64_t)event->res2;
}

/// Sets IOCB_FLAG_RESFD: the kernel signals `eventfd` when this request completes.
static inline void shoal_iocb_set_eventfd(struct iocb *iocb, int eventfd) {
    io_set_eventfd(iocb, eventfd);
}

// MARK: - epoll_event (packed on x86-64) accessors

static inline struct epoll_event shoal_epoll_event(uint32_t events, uint64_t data) {
    struct epoll_event e;
    e.events = events;
    e.data.u64 = data;
    return e;
}

static inline uint64_t shoal_epoll_event_data(const struct epoll_event *e) {
    return e->data.u64;
}

static inline uint32_t shoal_epoll_event_events(const struct epoll_event *e) {
    return e->events;
}

// MARK: - Calls compiled with _GNU_SOURCE (shim.c)

/// statx(STATX_DIOALIGN): the memory and file-offset alignment O_DIRECT needs.
/// Returns 0 and fills both when the kernel and file system report them,
/// 1 when they are not reported, -1 with errno on failure.
int shoal_dio_alignment(int fd, uint32_t *memory_alignment, uint32_t *offset_alignment);

/// fallocate(2).
int shoal_fallocate(int fd, int mode, int64_t offset, int64_t length);

/// The value of O_DIRECT on this architecture.
int shoal_o_direct(void);

/// The size in bytes of the block device open at `fd` (ioctl BLKGETSIZE64: fstat says 0
/// for a device). Returns 0, or -1 with errno (ENOTTY when `fd` is not a block device).
int shoal_block_device_size(int fd, uint64_t *size);

/// Whether the calling thread is the process's main thread (its thread id is the pid).
int shoal_is_main_thread(void);

/// Names the calling thread (at most 15 characters are kept), for ps, top and debuggers.
void shoal_set_thread_name(const char *name);

/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC: the accepted socket is ready for the
/// reactor. The peer's address goes to `address`/`length` (both may be NULL).
int shoal_accept_nonblocking(int fd, struct sockaddr *address, socklen_t *length);

// MARK: - Signals to the reactor (shim.c)

/// Installs Shoal's handler for `signo` (SA_RESTART) and keeps the action it replaces:
/// each delivery adds one to the signal's count and writes the shared signal eventfd,
/// both async-signal-safe. Returns 0, or -1 with errno (EINVAL for SIGKILL, SIGSTOP
/// or a number out of range). Callers serialize watch and unwatch.
int shoal_signal_watch(int signo);

/// Restores the action `shoal_signal_watch` replaced.
int shoal_signal_unwatch(int signo);

/// How many times `signo` arrived since Shoal first watched it.
uint64_t shoal_signal_count(int signo);

/// The eventfd the handler writes (non-blocking, close-on-exec, never read, so it
/// stays readable and every write is an edge for every epoll watching it); -1 until
/// the first shoal_signal_watch.
int shoal_signal_eventfd(void);

#endif
