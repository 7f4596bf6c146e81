// c-echo: the floor of the echo benchmark. One thread, epoll (level-triggered),
// non-blocking sockets, TCP_NODELAY, a read buffer per connection; whatever the
// socket does not take yet waits for EPOLLOUT while reading pauses.
// Usage: c-echo PORT (0: any free port). Prints "c-echo listening on 127.0.0.1:PORT".
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BUFFER = 64 * 1024 };

struct connection {
    int fd;
    size_t pending;  // bytes of buffer not yet written back
    size_t offset;
    char buffer[BUFFER];
};

static int watch(int epoll, int op, struct connection *c, uint32_t events) {
    struct epoll_event event = {.events = events, .data.ptr = c};
    return epoll_ctl(epoll, op, c->fd, &event);
}

static void drop(int epoll, struct connection *c) {
    epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

// Writes what is pending; returns 0 when all went, 1 when the socket is full, -1 on error.
static int flush(struct connection *c) {
    while (c->pending > 0) {
        ssize_t sent = send(c->fd, c->buffer + c->offset, c->pending, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN ? 1 : -1;
        }
        c->offset += (size_t)sent;
        c->pending -= (size_t)sent;
    }
    return 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    int port = argc > 1 ? atoi(argv[1]) : 7002;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 1024) != 0) {
        fprintf(stderr, "c-echo: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
    }
    socklen_t length = sizeof address;
    getsockname(listener, (struct sockaddr *)&address, &length);
    printf("c-echo listening on 127.0.0.1:%d\n", ntohs(address.sin_port));
    fflush(stdout);

    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct connection listening = {.fd = listener};
    watch(epoll, EPOLL_CTL_ADD, &listening, EPOLLIN);
    struct epoll_event events[256];
    for (;;) {
        int count = epoll_wait(epoll, events, 256, -1);
        if (count < 0 && errno == EINTR) continue;
        for (int i = 0; i < count; i++) {
            struct connection *c = events[i].data.ptr;
            if (c == &listening) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct connection *fresh = malloc(sizeof *fresh);
                    fresh->fd = fd;
                    fresh->pending = 0;
                    fresh->offset = 0;
                    watch(epoll, EPOLL_CTL_ADD, fresh, EPOLLIN | EPOLLRDHUP);
                }
                continue;
            }
            if (c->pending > 0) {  // waiting for room: EPOLLOUT
                int state = flush(c);
                if (state < 0) { drop(epoll, c); continue; }
                if (state == 0) watch(epoll, EPOLL_CTL_MOD, c, EPOLLIN | EPOLLRDHUP);
                continue;
            }
            ssize_t got = recv(c->fd, c->buffer, BUFFER, 0);
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) { drop(epoll, c); continue; }
            if (got < 0) continue;
            c->pending = (size_t)got;
            c->offset = 0;
            int state = flush(c);
            if (state < 0) { drop(epoll, c); continue; }
            if (state == 1) watch(epoll, EPOLL_CTL_MOD, c, EPOLLOUT);
        }
    }
}
