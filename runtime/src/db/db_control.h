/* Process-wide controls of the database layer that only the daemon uses:
 * naming its sessions and stopping statements at shutdown. */
#ifndef RT_DB_CONTROL_H
#define RT_DB_CONTROL_H

#include "db.h"

/* application_name of every later connection (pg_stat_activity shows it).
 * The string must outlive the connections. */
void rt_db_set_application_name(const char *name);
/* False while the statements cannot be prepared on a (re)opened session,
 * e.g. a migration was undone: health then says NOT_SERVING. */
bool rt_db_statements_ready(void);
/* False while a writer session is not open (connecting, backing off):
 * writes cannot go out, so health says NOT_SERVING. */
bool rt_db_writable(void);
/* Ends every statement's wait and refuses new ones: the last step of a
 * drain, so no call stays waiting on the database. A statement already sent
 * is answered RT_DB_OUTCOME_UNKNOWN (it may commit yet), one not sent
 * CANCELLED; then the running ones are cancelled on the server. */
void rt_db_interrupt_all(void);

#endif
