/* A stand-in for systemd's side of sd_notify (tests only): binds the unix
 * datagram socket at argv[1], the NOTIFY_SOCKET the test gives a daemon,
 * and prints each datagram it receives as one line, "<ms since start>
 * <text>", newlines inside shown as '|'. Node cannot open unix datagram
 * sockets, hence this helper. Ends when stdin closes (the test ended), so
 * it never outlives its test. */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (argc != 2 || strlen(argv[1]) >= sizeof addr.sun_path) {
        fprintf(stderr, "usage: notify_listen SOCKET_PATH\n");
        return 2;
    }
    strcpy(addr.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("notify_listen");
        return 1;
    }
    printf("%lld LISTENING\n", 0LL);
    fflush(stdout);
    long long start = now_ms();
    struct pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
    for (;;) {
        if (poll(fds, 2, -1) < 0)
            continue;
        if (fds[1].revents) { /* stdin readable: EOF (the test closed it) or stray input */
            char buf[64];
            if (read(0, buf, sizeof buf) <= 0)
                break;
        }
        if (fds[0].revents & POLLIN) {
            char buf[4096];
            ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
            if (n < 0)
                continue;
            for (ssize_t i = 0; i < n; i++)
                if (buf[i] == '\n')
                    buf[i] = '|';
            buf[n] = '\0';
            printf("%lld %s\n", now_ms() - start, buf);
            fflush(stdout);
        }
    }
    unlink(argv[1]);
    return 0;
}
