/* The policy in force (authz.h). Calls read it under a read lock; a
 * watcher thread wakes every reload interval, and when the file's inode,
 * size or times changed it parses the new text and swaps it in under the
 * write lock. An invalid new policy is logged and ignored: the last valid
 * one stays in force (A43's rule), so a bad edit never opens the door. */
#include "authz.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"

/* A policy is a few KiB; anything this big is not one. */
#define RT_AUTHZ_MAX_BYTES (1024 * 1024)

struct rt_authz {
    char *path; /* NULL: no policy, everything allowed */
    int reload_seconds;
    pthread_rwlock_t lock;
    rt_authz_policy *policy;
    struct stat seen; /* the file as last read, valid or not */

    pthread_t watcher;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop;
    bool stopping;
};

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Reads and parses path; NULL with error set on any failure. */
static rt_authz_policy *load(const char *path, struct stat *st, char *error, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(error, size, "cannot open: %s", strerror(errno));
        return NULL;
    }
    rt_authz_policy *policy = NULL;
    char *text = NULL;
    if (fstat(fileno(f), st) != 0 || st->st_size > RT_AUTHZ_MAX_BYTES) {
        snprintf(error, size, "not a policy file (unreadable or over %d bytes)", RT_AUTHZ_MAX_BYTES);
    } else if (!(text = malloc((size_t)st->st_size + 1))) {
        abort();
    } else {
        size_t n = fread(text, 1, (size_t)st->st_size, f);
        text[n] = '\0';
        if (n != (size_t)st->st_size || memchr(text, '\0', n))
            snprintf(error, size, "cannot read the whole file");
        else
            policy = rt_authz_policy_parse(text, error, size);
    }
    free(text);
    fclose(f);
    return policy;
}

static void reload_if_changed(rt_authz *a)
{
    struct stat now = {0};
    if (stat(a->path, &now) == 0 && same_file(&now, &a->seen))
        return;
    char error[512];
    struct stat st = now;
    rt_authz_policy *fresh = load(a->path, &st, error, sizeof error);
    if (!fresh) {
        /* logged once per change of the file, not at every interval */
        if (!same_file(&st, &a->seen))
            rt_log(RT_LOG_ERROR, "authorization policy %s not reloaded, the previous one stays in force: %s",
                   a->path, error);
        a->seen = st;
        return;
    }
    a->seen = st;
    pthread_rwlock_wrlock(&a->lock);
    rt_authz_policy *old = a->policy;
    a->policy = fresh;
    pthread_rwlock_unlock(&a->lock);
    rt_authz_policy_free(old);
    rt_log(RT_LOG_INFO, "authorization policy '%s' reloaded from %s", rt_authz_policy_name(fresh), a->path);
}

static void *watch(void *arg)
{
    rt_authz *a = arg;
    pthread_setname_np(pthread_self(), "authz-watch");
    pthread_mutex_lock(&a->stop_lock);
    while (!a->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += a->reload_seconds;
        if (pthread_cond_timedwait(&a->stop, &a->stop_lock, &until) == ETIMEDOUT && !a->stopping) {
            pthread_mutex_unlock(&a->stop_lock);
            reload_if_changed(a);
            pthread_mutex_lock(&a->stop_lock);
        }
    }
    pthread_mutex_unlock(&a->stop_lock);
    return NULL;
}

rt_authz *rt_authz_create(const char *policy_file, int reload_seconds, char **error)
{
    *error = NULL;
    rt_authz *a = calloc(1, sizeof *a);
    if (!a)
        abort();
    pthread_rwlock_init(&a->lock, NULL);
    if (!policy_file)
        return a;
    char why[512];
    a->policy = load(policy_file, &a->seen, why, sizeof why);
    if (!a->policy) {
        if (asprintf(error, "authorization policy %s: %s", policy_file, why) < 0)
            *error = NULL;
        pthread_rwlock_destroy(&a->lock);
        free(a);
        return NULL;
    }
    a->path = strdup(policy_file);
    a->reload_seconds = reload_seconds;
    pthread_mutex_init(&a->stop_lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&a->stop, &attr);
    pthread_condattr_destroy(&attr);
    if (!a->path || pthread_create(&a->watcher, NULL, watch, a) != 0)
        abort();
    rt_log(RT_LOG_INFO, "authorization policy '%s' loaded from %s", rt_authz_policy_name(a->policy), a->path);
    return a;
}

void rt_authz_destroy(rt_authz *a)
{
    if (!a)
        return;
    if (a->path) {
        pthread_mutex_lock(&a->stop_lock);
        a->stopping = true;
        pthread_cond_signal(&a->stop);
        pthread_mutex_unlock(&a->stop_lock);
        pthread_join(a->watcher, NULL);
        pthread_cond_destroy(&a->stop);
        pthread_mutex_destroy(&a->stop_lock);
        free(a->path);
    }
    rt_authz_policy_free(a->policy);
    pthread_rwlock_destroy(&a->lock);
    free(a);
}

rt_status rt_authz_check(rt_authz *a, const rt_authz_peer *peer, const char *path,
                         const grpc_metadata_array *headers)
{
    if (!a->path)
        return RT_OK;
    pthread_rwlock_rdlock(&a->lock);
    rt_authz_decision d = rt_authz_policy_decide(a->policy, peer, path, headers);
    if (!d.allowed) /* logged under the lock: the rule's name belongs to the policy */
        rt_log(RT_LOG_WARN, "denied by authorization policy '%s': %s%s%s; caller %s",
               rt_authz_policy_name(a->policy), d.rule ? "deny rule '" : "no allow rule matches",
               d.rule ? d.rule : "", d.rule ? "' matches" : "",
               peer->identity ? peer->identity : peer->tls ? "without a certificate" : "on plaintext");
    pthread_rwlock_unlock(&a->lock);
    if (d.allowed)
        return RT_OK;
    return peer->has_cert ? rt_status_of(GRPC_STATUS_PERMISSION_DENIED, "permission denied")
                          : rt_status_of(GRPC_STATUS_UNAUTHENTICATED, "a verified client certificate is required");
}
