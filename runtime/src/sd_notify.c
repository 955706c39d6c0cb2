/* sd_notify's datagram protocol (sd_notify.h), as systemd documents it:
 * one AF_UNIX SOCK_DGRAM datagram per notification to the path in
 * $NOTIFY_SOCKET ('@' first: an abstract socket). One socket, opened at
 * start, non-blocking: a notification never makes a caller wait, and one
 * lost to a full receive queue is repeated by the next (watchdog) or
 * superseded by the next STATUS. */
#include "sd_notify.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct {
    int fd;
    struct sockaddr_un addr;
    socklen_t addr_len;
    int64_t interval_ms; /* between pings: half of WATCHDOG_USEC; 0: none */
    int64_t next_ping_ms; /* serving loop only */
} g = {.fd = -1};

/* CLOCK_MONOTONIC_COARSE: a vDSO read without a system call, precise to a
 * few ms, enough for pings seconds apart; the loop reads it every turn. */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* WATCHDOG_USEC, when it is meant for this process: systemd sets
 * WATCHDOG_PID to the main process, so a child that inherited the
 * environment does not ping on its behalf. 0 when there is no watchdog. */
static int64_t watchdog_usec(void)
{
    const char *usec = getenv("WATCHDOG_USEC");
    const char *pid = getenv("WATCHDOG_PID");
    if (!usec || !*usec)
        return 0;
    if (pid && *pid && strtol(pid, NULL, 10) != (long)getpid())
        return 0;
    char *end;
    long long v = strtoll(usec, &end, 10);
    return *end == '\0' && v > 0 ? v : 0;
}

void rt_sd_init(void)
{
    const char *path = getenv("NOTIFY_SOCKET");
    size_t len = path ? strlen(path) : 0;
    if (len < 2 || len >= sizeof g.addr.sun_path || (path[0] != '/' && path[0] != '@'))
        return;
    g.addr.sun_family = AF_UNIX;
    memcpy(g.addr.sun_path, path, len);
    if (path[0] == '@')
        g.addr.sun_path[0] = '\0'; /* abstract namespace: no terminating NUL counted */
    g.addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
    g.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (g.fd < 0)
        return;
    g.interval_ms = watchdog_usec() / 2000;
    if (g.interval_ms < 1 && watchdog_usec() > 0)
        g.interval_ms = 1;
    g.next_ping_ms = now_ms(); /* the first turn of the loop pings */
}

void rt_sd_notify(const char *state)
{
    if (g.fd < 0)
        return;
    ssize_t ignored = sendto(g.fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&g.addr, g.addr_len);
    (void)ignored; /* no manager listening, or its queue full: nothing to do about it here */
}

int rt_sd_watchdog_tick(void)
{
    if (g.fd < 0 || g.interval_ms == 0)
        return -1;
    int64_t now = now_ms();
    if (now >= g.next_ping_ms) {
        rt_sd_notify("WATCHDOG=1");
        g.next_ping_ms = now + g.interval_ms;
    }
    return (int)(g.next_ping_ms - now);
}

void rt_sd_close(void)
{
    if (g.fd >= 0)
        close(g.fd);
    g.fd = -1;
}
