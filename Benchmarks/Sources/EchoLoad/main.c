// echo-load: the echo benchmark's load generator. No Shoal, no NIO: plain
// non-blocking sockets and epoll on one thread. Each of N connections sends a message
// of SIZE bytes, waits for all of it to come back, and sends the next (ping-pong).
// After a warm-up it counts round trips for a bounded time and prints one line:
//   requests=R seconds=S rps=X p50_us=A p99_us=B max_us=C
// Usage: echo-load PORT CONNECTIONS SIZE SECONDS [WARMUP_SECONDS]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct client {
    int fd;
    size_t sent, received;
    uint64_t started;
};

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int compare(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static size_t size;
static char *message, *sink;

// Sends the rest of the message; returns -1 on error.
static int pump(struct client *c) {
    while (c->sent < size) {
        ssize_t n = send(c->fd, message + c->sent, size - c->sent, MSG_NOSIGNAL);
        if (n < 0) return errno == EAGAIN ? 0 : -1;
        c->sent += (size_t)n;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: echo-load PORT CONNECTIONS SIZE SECONDS [WARMUP_SECONDS]\n");
        return 64;
    }
    int port = atoi(argv[1]), connections = atoi(argv[2]);
    size = (size_t)atol(argv[3]);
    double seconds = atof(argv[4]), warmup = argc > 5 ? atof(argv[5]) : 1.0;
    if (connections < 1 || size < 1 || seconds <= 0 || seconds > 600) {
        fprintf(stderr, "echo-load: bad arguments\n");
        return 64;
    }
    message = malloc(size);
    sink = malloc(size);
    for (size_t i = 0; i < size; i++) message[i] = (char)(i * 31 + 7);
    struct client *clients = calloc((size_t)connections, sizeof *clients);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    for (int i = 0; i < connections; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
            fprintf(stderr, "echo-load: connect 127.0.0.1:%d: %s\n", port, strerror(errno));
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        clients[i].fd = fd;
        struct epoll_event event = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = &clients[i]};
        epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
    }
    size_t capacity = 1 << 20, latencies_count = 0;
    uint32_t *latencies = malloc(capacity * sizeof *latencies);
    uint64_t start = now_ns(), measure_from = start + (uint64_t)(warmup * 1e9);
    uint64_t end = measure_from + (uint64_t)(seconds * 1e9);
    long requests = 0;
    for (int i = 0; i < connections; i++) {
        clients[i].started = now_ns();
        if (pump(&clients[i]) < 0) { perror("echo-load: send"); return 1; }
    }
    struct epoll_event events[256];
    uint64_t current = start;
    while (current < end) {
        int count = epoll_wait(epoll, events, 256, 100);
        if (count < 0 && errno != EINTR) { perror("echo-load: epoll_wait"); return 1; }
        current = now_ns();
        for (int e = 0; e < count; e++) {
            struct client *c = events[e].data.ptr;
            if (pump(c) < 0) { perror("echo-load: send"); return 1; }
            for (;;) {
                ssize_t n = recv(c->fd, sink, size - c->received, 0);
                if (n == 0) { fprintf(stderr, "echo-load: the server closed a connection\n"); return 1; }
                if (n < 0) {
                    if (errno == EAGAIN) break;
                    perror("echo-load: recv");
                    return 1;
                }
                c->received += (size_t)n;
                if (c->received < size) continue;
                uint64_t done = now_ns();
                if (c->started >= measure_from && done <= end) {
                    requests++;
                    if (latencies_count == capacity) {
                        capacity *= 2;
                        latencies = realloc(latencies, capacity * sizeof *latencies);
                    }
                    uint64_t ns = done - c->started;
                    latencies[latencies_count++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
                }
                c->sent = 0;
                c->received = 0;
                c->started = done;
                if (pump(c) < 0) { perror("echo-load: send"); return 1; }
            }
        }
    }
    qsort(latencies, latencies_count, sizeof *latencies, compare);
    double p50 = latencies_count ? latencies[latencies_count / 2] / 1e3 : 0;
    double p99 = latencies_count ? latencies[(size_t)(latencies_count * 0.99)] / 1e3 : 0;
    double max = latencies_count ? latencies[latencies_count - 1] / 1e3 : 0;
    printf("requests=%ld seconds=%.3f rps=%.1f p50_us=%.1f p99_us=%.1f max_us=%.1f\n", requests, seconds,
        requests / seconds, p50, p99, max);
    return 0;
}
