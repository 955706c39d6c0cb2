/* The health probe's connection (db_probe.h): the only libpq connection
 * outside the daemon's sessions, kept in the database layer with them. */
#include "db_probe.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "db_url.h"

char *rt_db_probe_url(const char *database_url)
{
    char *search_path = NULL;
    char *url = rt_db_url_for_libpq(database_url, &search_path);
    free(search_path);
    url = url ? url : strdup(database_url);
    if (!url)
        abort();
    return url;
}

bool rt_db_probe(const char *probe_url)
{
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    const char *values[] = {probe_url, "1", NULL};
    if (!strstr(probe_url, "target_session_attrs"))
        return PQpingParams(keys, values, 1) == PQPING_OK;
    /* A ping is answered by any server that is up, a read-only standby too:
     * with target_session_attrs (a multi-host cluster URL, docs/scaling.md)
     * only a session the URL accepts, i.e. a primary during a failover,
     * means the database is reachable. */
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    bool ok = PQstatus(conn) == CONNECTION_OK;
    PQfinish(conn);
    return ok;
}
