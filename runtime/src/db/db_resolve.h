/* A host name resolved off the thread that asks (getaddrinfo may wait on
 * DNS for seconds): one detached thread per lookup, its end signalled on
 * an eventfd the asking thread polls, so a session opening from the fiber
 * thread's loop never blocks on the resolver (issue 19, 8). */
#ifndef RT_DB_RESOLVE_H
#define RT_DB_RESOLVE_H

#include <stdbool.h>

typedef struct rt_db_resolve rt_db_resolve;

/* True when host needs no lookup: a numeric address or a Unix socket
 * directory. */
bool rt_db_host_is_numeric(const char *host);
/* Starts looking host up; NULL when no thread could be started. */
rt_db_resolve *rt_db_resolve_start(const char *host);
/* Readable (POLLIN) once the lookup has finished. */
int rt_db_resolve_fd(const rt_db_resolve *r);
/* False while running. Then *address is every distinct address found (at
 * most RT_DB_RESOLVE_MAX, numeric, comma-separated as libpq's hostaddr
 * takes them; malloc'd), or NULL with *error (malloc'd) saying why. */
#define RT_DB_RESOLVE_MAX 8
bool rt_db_resolve_result(rt_db_resolve *r, char **address, char **error);
/* Frees r, or leaves it to its thread to free when that is still waiting
 * on the resolver. */
void rt_db_resolve_free(rt_db_resolve *r);

#endif
