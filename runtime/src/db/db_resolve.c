/* Host lookups off the asking thread (db_resolve.h). The lookup and its
 * asker share one heap record with two references; whichever lets go last
 * frees it, so an asker that gives up (a timeout, a shutdown) never waits
 * for the resolver. */
#include "db_resolve.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

struct rt_db_resolve {
    atomic_int refs;
    atomic_bool done;
    int fd; /* eventfd: written once when done */
    char *host;
    char *address, *error;
};

bool rt_db_host_is_numeric(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return host[0] == '/' || host[0] == '@' || inet_pton(AF_INET, host, buf) == 1 ||
           inet_pton(AF_INET6, host, buf) == 1;
}

static void release(rt_db_resolve *r)
{
    if (atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    close(r->fd);
    free(r->host);
    free(r->address);
    free(r->error);
    free(r);
}

static void *lookup(void *arg)
{
    rt_db_resolve *r = arg;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *found = NULL;
    int rc = getaddrinfo(r->host, NULL, &hints, &found);
    char list[RT_DB_RESOLVE_MAX * (INET6_ADDRSTRLEN + 1)] = "";
    size_t n = 0, len = 0;
    for (struct addrinfo *a = rc == 0 ? found : NULL; a && n < RT_DB_RESOLVE_MAX; a = a->ai_next) {
        char text[INET6_ADDRSTRLEN + 1];
        if (getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, NULL, 0, NI_NUMERICHOST) != 0)
            continue;
        char padded[sizeof text + 2]; /* ",addr," finds it whole in ",list," */
        snprintf(padded, sizeof padded, ",%s,", text);
        char bounded[sizeof list + 2];
        snprintf(bounded, sizeof bounded, ",%s,", list);
        if (strstr(bounded, padded))
            continue;
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", n ? "," : "", text);
        n++;
    }
    if (n)
        r->address = strdup(list);
    else
        r->error = strdup(rc ? gai_strerror(rc) : "no numeric address");
    if (found)
        freeaddrinfo(found);
    atomic_store(&r->done, true);
    uint64_t one = 1;
    (void)!write(r->fd, &one, sizeof one);
    release(r);
    return NULL;
}

rt_db_resolve *rt_db_resolve_start(const char *host)
{
    rt_db_resolve *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r->host = strdup(host);
    atomic_init(&r->refs, 2);
    pthread_attr_t attr;
    pthread_t thread;
    bool started = r->fd >= 0 && r->host && pthread_attr_init(&attr) == 0;
    if (started) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        started = pthread_create(&thread, &attr, lookup, r) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!started) {
        if (r->fd >= 0)
            close(r->fd);
        free(r->host);
        free(r);
        return NULL;
    }
    return r;
}

int rt_db_resolve_fd(const rt_db_resolve *r)
{
    return r->fd;
}

bool rt_db_resolve_result(rt_db_resolve *r, char **address, char **error)
{
    if (!atomic_load(&r->done))
        return false;
    *address = r->address ? strdup(r->address) : NULL;
    *error = r->error ? strdup(r->error) : NULL;
    return true;
}

void rt_db_resolve_free(rt_db_resolve *r)
{
    if (r)
        release(r);
}
