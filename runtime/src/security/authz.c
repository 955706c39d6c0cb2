/* The policy in force (authz.h). Calls read it under a read lock; every
 * reload interval a ticker (file_watch.h) checks the file, and when it
 * changed parses the new text and swaps it in under the write lock. An
 * invalid new policy is logged once and ignored: the last valid one stays
 * in force (A43's rule), so a bad edit never opens the door. */
#include "authz.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_watch.h"
#include "log.h"

/* A policy is a few KiB; anything this big is not one. */
#define RT_AUTHZ_MAX_BYTES (1024 * 1024)

struct rt_authz {
    char *path; /* NULL: no policy, everything allowed */
    pthread_rwlock_t lock;
    rt_authz_policy *policy;
    struct stat seen; /* the file as last read, valid or not */
    rt_ticker *ticker;
};

/* Reads and parses path; NULL with error set on any failure. */
static rt_authz_policy *load(const char *path, char *error, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(error, size, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *text = malloc(RT_AUTHZ_MAX_BYTES + 1);
    if (!text)
        abort();
    size_t n = fread(text, 1, RT_AUTHZ_MAX_BYTES + 1, f);
    bool failed = ferror(f);
    fclose(f);
    rt_authz_policy *policy = NULL;
    if (failed || n > RT_AUTHZ_MAX_BYTES || memchr(text, '\0', n)) {
        snprintf(error, size, "not a policy file (unreadable, binary or over %d bytes)", RT_AUTHZ_MAX_BYTES);
    } else {
        text[n] = '\0';
        policy = rt_authz_policy_parse(text, error, size);
    }
    free(text);
    return policy;
}

static void reload_if_changed(void *arg)
{
    rt_authz *a = arg;
    if (!rt_file_changed(a->path, &a->seen))
        return;
    char error[512];
    rt_authz_policy *fresh = load(a->path, error, sizeof error);
    if (!fresh) {
        rt_log(RT_LOG_ERROR, "authorization policy %s not reloaded, the previous one stays in force: %s",
               a->path, error);
        return;
    }
    pthread_rwlock_wrlock(&a->lock);
    rt_authz_policy *old = a->policy;
    a->policy = fresh;
    pthread_rwlock_unlock(&a->lock);
    rt_authz_policy_free(old);
    rt_log(RT_LOG_INFO, "authorization policy '%s' reloaded from %s", rt_authz_policy_name(fresh), a->path);
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
    rt_file_changed(policy_file, &a->seen); /* before reading: a change meanwhile is seen next time */
    a->policy = load(policy_file, why, sizeof why);
    if (!a->policy) {
        if (asprintf(error, "authorization policy %s: %s", policy_file, why) < 0)
            *error = NULL;
        rt_authz_destroy(a);
        return NULL;
    }
    a->path = strdup(policy_file);
    if (!a->path)
        abort();
    a->ticker = rt_ticker_start(reload_seconds, "authz-watch", reload_if_changed, a);
    rt_log(RT_LOG_INFO, "authorization policy '%s' loaded from %s", rt_authz_policy_name(a->policy), a->path);
    return a;
}

void rt_authz_destroy(rt_authz *a)
{
    if (!a)
        return;
    rt_ticker_stop(a->ticker);
    free(a->path);
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
