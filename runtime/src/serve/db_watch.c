/* The db-watch thread (db_watch.h). The loop owns the registrations (the
 * thread only waits): it changes them only for a socket that fired (one-shot
 * disabled it), whose events changed, or after a new fd epoch. The sleeping
 * flag and the ready flag are a Dekker pair: the loop sets sleeping then
 * reads ready, the thread sets ready then takes sleeping, so at least one
 * of them sees the other and a report is never lost. */
#include "db_watch.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define STOP_KEY UINT32_MAX

typedef struct {
    int fd;       /* registered, or -1 */
    short events; /* as asked for (POLLIN/POLLOUT) */
    atomic_bool fired; /* reported: one-shot disabled it */
} entry;

struct rt_db_watch {
    int epfd, stop_fd;
    rt_cq_wake *wake;
    pthread_t thread;
    atomic_bool ready;    /* a socket was reported since the loop last looked */
    atomic_bool sleeping; /* the loop is (about to be) in grpc_completion_queue_next */
    unsigned epoch;
    bool registered_once;
    size_t n;
    entry *entries;
};

static void *watch_main(void *arg)
{
    rt_db_watch *w = arg;
    pthread_setname_np(pthread_self(), "db-watch");
    struct epoll_event evs[16];
    for (;;) {
        int k = epoll_wait(w->epfd, evs, sizeof evs / sizeof evs[0], -1);
        if (k < 0 && errno != EINTR)
            abort(); /* EBADF/EFAULT/EINVAL: a bug */
        bool any = false;
        for (int i = 0; i < k; i++) {
            if (evs[i].data.u32 == STOP_KEY)
                return NULL;
            atomic_store(&w->entries[evs[i].data.u32].fired, true);
            any = true;
        }
        if (!any)
            continue;
        atomic_store(&w->ready, true);
        if (atomic_exchange(&w->sleeping, false))
            rt_cq_wake_fire(w->wake);
    }
}

rt_db_watch *rt_db_watch_create(size_t n, rt_cq_wake *wake)
{
    rt_db_watch *w = calloc(1, sizeof *w);
    if (!w || !(w->entries = calloc(n, sizeof *w->entries)))
        abort();
    w->n = n;
    w->wake = wake;
    for (size_t i = 0; i < n; i++)
        w->entries[i].fd = -1;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->epfd < 0 || w->stop_fd < 0)
        abort();
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = STOP_KEY};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->stop_fd, &ev) != 0 ||
        pthread_create(&w->thread, NULL, watch_main, w) != 0)
        abort();
    return w;
}

bool rt_db_watch_ready(rt_db_watch *w)
{
    return atomic_load_explicit(&w->ready, memory_order_relaxed) && atomic_exchange(&w->ready, false);
}

static uint32_t epoll_events(short events)
{
    return EPOLLONESHOT | (events & POLLIN ? EPOLLIN : 0) | (events & POLLOUT ? EPOLLOUT : 0);
}

/* Arms entry i for fd/events: modifies the registration, or adds it when
 * the kernel dropped it (the socket was closed). */
static void arm(rt_db_watch *w, size_t i, int fd, short events)
{
    struct epoll_event ev = {.events = epoll_events(events), .data.u32 = (uint32_t)i};
    if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev) != 0 && epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        abort(); /* ENOMEM/ENOSPC: an exhausted machine; EBADF: a bug */
    w->entries[i].fd = fd;
    w->entries[i].events = events;
}

/* Every socket anew: the old registrations go first, since a number may
 * now belong to another session's new socket. */
static void register_all(rt_db_watch *w, const struct pollfd *fds, size_t n)
{
    for (size_t i = 0; i < w->n; i++) {
        if (w->entries[i].fd >= 0)
            epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->entries[i].fd, NULL); /* ENOENT/EBADF: closed, dropped */
        w->entries[i].fd = -1;
        atomic_store(&w->entries[i].fired, false);
    }
    for (size_t i = 0; i < n; i++)
        if (fds[i].fd >= 0 && fds[i].events)
            arm(w, i, fds[i].fd, fds[i].events);
}

bool rt_db_watch_sleep(rt_db_watch *w, const struct pollfd *fds, size_t n, unsigned epoch)
{
    if (n > w->n)
        abort(); /* more sessions than the watch was made for: a bug */
    bool renew = !w->registered_once || epoch != w->epoch;
    for (size_t i = 0; i < n && !renew; i++) {
        entry *e = &w->entries[i];
        int fd = fds[i].events ? fds[i].fd : -1;
        if (fd != e->fd)
            renew = true; /* a new socket without a new epoch: be safe */
        else if (fd >= 0 && (atomic_exchange(&e->fired, false) || fds[i].events != e->events))
            arm(w, i, fd, fds[i].events);
    }
    if (renew) {
        register_all(w, fds, n);
        w->epoch = epoch;
        w->registered_once = true;
    }
    atomic_store(&w->sleeping, true);
    if (atomic_load(&w->ready)) {
        atomic_store(&w->sleeping, false);
        return false;
    }
    return true;
}

void rt_db_watch_awake(rt_db_watch *w)
{
    atomic_store_explicit(&w->sleeping, false, memory_order_relaxed);
}

void rt_db_watch_destroy(rt_db_watch *w)
{
    if (!w)
        return;
    uint64_t one = 1;
    ssize_t ignored = write(w->stop_fd, &one, sizeof one);
    (void)ignored; /* an eventfd write of 1 cannot fail here */
    pthread_join(w->thread, NULL);
    close(w->stop_fd);
    close(w->epfd);
    free(w->entries);
    free(w);
}
