/* File polling (file_watch.h). */
#include "file_watch.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct rt_ticker {
    int seconds;
    void (*fn)(void *arg);
    void *arg;
    char name[16]; /* pthread names are at most 15 bytes */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t stop; /* on CLOCK_MONOTONIC: clock changes do not matter */
    bool stopping;
};

static void *tick(void *arg)
{
    rt_ticker *t = arg;
    pthread_setname_np(pthread_self(), t->name);
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += t->seconds;
        if (pthread_cond_timedwait(&t->stop, &t->lock, &until) == ETIMEDOUT && !t->stopping) {
            pthread_mutex_unlock(&t->lock);
            t->fn(t->arg);
            pthread_mutex_lock(&t->lock);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

rt_ticker *rt_ticker_start(int seconds, const char *name, void (*fn)(void *arg), void *arg)
{
    rt_ticker *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    t->seconds = seconds;
    t->fn = fn;
    t->arg = arg;
    strncpy(t->name, name, sizeof t->name - 1);
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->stop, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&t->thread, NULL, tick, t) != 0)
        abort();
    return t;
}

void rt_ticker_stop(rt_ticker *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = true;
    pthread_cond_signal(&t->stop);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->stop);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

bool rt_file_changed(const char *path, struct stat *seen)
{
    struct stat now;
    if (stat(path, &now) != 0)
        memset(&now, 0, sizeof now);
    bool same = now.st_ino == seen->st_ino && now.st_dev == seen->st_dev && now.st_size == seen->st_size &&
                now.st_mtim.tv_sec == seen->st_mtim.tv_sec && now.st_mtim.tv_nsec == seen->st_mtim.tv_nsec &&
                now.st_ctim.tv_sec == seen->st_ctim.tv_sec && now.st_ctim.tv_nsec == seen->st_ctim.tv_nsec;
    *seen = now;
    return !same;
}
