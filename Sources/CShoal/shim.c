// Calls that need _GNU_SOURCE, which a Swift-imported header cannot set.
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
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

int shoal_is_main_thread(void) {
    return (pid_t)syscall(SYS_gettid) == getpid();
}

void shoal_set_thread_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof(truncated) - 1);
    truncated[sizeof(truncated) - 1] = 0;
    pthread_setname_np(pthread_self(), truncated);
}
