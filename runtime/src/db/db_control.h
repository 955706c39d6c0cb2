/* Process-wide controls of the database layer that only the daemon uses:
 * naming its sessions, stopping statements at shutdown, and describing the
 * configured database without leaking its password. */
#ifndef RT_DB_CONTROL_H
#define RT_DB_CONTROL_H

#include "db.h"

/* application_name of every later connection (pg_stat_activity shows it).
 * The string must outlive the connections. */
void rt_db_set_application_name(const char *name);
/* False while the statements cannot be prepared on a (re)opened session,
 * e.g. a migration was undone: health then says NOT_SERVING. */
bool rt_db_statements_ready(void);
/* Cancels statements in flight and refuses new ones (CANCELLED): the last
 * step of a drain, so no call stays waiting on the database. */
void rt_db_interrupt_all(void);

/* "host:port/dbname" of a libpq URL or conninfo string, malloc'd, for
 * messages and logs; never contains the user's password. */
char *rt_db_describe_url(const char *url);
/* The URL with the query parameters of Prisma URLs that libpq rejects
 * removed (the replaced system's DATABASE_URL keeps working), malloc'd.
 * Its `schema` parameter becomes *search_path (malloc'd, or NULL). NULL
 * when the text is not a URL at all: then it is used unchanged. */
char *rt_db_url_for_libpq(const char *url, char **search_path);

#endif
