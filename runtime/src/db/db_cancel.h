/* Cancel requests sent by a helper thread. libpq 15's PQcancel opens a new
 * connection to the server and waits for it (135 s when the host drops
 * SYNs), so the fiber thread only hands the request over; the helper may
 * block, no thread that serves calls does. Requests beyond a small queue
 * are dropped: a cancel only hurries a statement whose caller was already
 * answered. */
#ifndef RT_DB_CANCEL_H
#define RT_DB_CANCEL_H

#include <libpq-fe.h>

/* Asks the server to cancel what conn is running; never blocks. */
void rt_db_cancel_send(PGconn *conn);

#endif
