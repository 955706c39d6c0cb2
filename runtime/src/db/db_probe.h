/* The health probe's look at the database (health.c): whether the
 * configured DATABASE_URL reaches a server now, asked on a connection of
 * its own, never one the daemon serves calls with. Blocking: the probe runs
 * on a thread of its own. Implemented by db_probe.c. */
#ifndef RT_DB_PROBE_H
#define RT_DB_PROBE_H

#include <stdbool.h>

/* The URL a probe uses: DATABASE_URL in libpq's form (db_url.h), malloc'd. */
char *rt_db_probe_url(const char *database_url);
/* True when a server answers at probe_url within a second: any server that
 * is up for a plain URL, a session the URL accepts when it names
 * target_session_attrs (a multi-host cluster URL). */
bool rt_db_probe(const char *probe_url);

#endif
