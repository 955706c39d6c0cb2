/* PostgreSQL sessions (db.h): connecting, preparing every statement,
 * reconnecting, cancelling, and turning a statement's result into a
 * status. Statements themselves run from fibers through views onto the
 * pipelined sessions (db_pipeline.c), where a call's deadline cancels its
 * statement without a `SET statement_timeout` round trip. */
#include "db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_control.h"
#include "db_session.h"
#include "deadline.h"
#include "log.h"
#include "metrics.h"

struct rt_db {
    PGconn *conn;
    const rt_db_statement *statements;
    size_t n_statements;
    gpr_timespec deadline; /* monotonic */
    bool counted_up;       /* as last reported to metrics */
    char *url;             /* libpq form of the configured URL */
    char options[256];     /* session settings */
    /* A session from rt_db_open_later is opened by the daemon's opener
     * thread, or by the main thread waiting for the first one, under
     * `opening`; `opened` is set after that first attempt (and from the
     * start by rt_db_connect). */
    atomic_bool opened;
    pthread_mutex_t opening;
    /* Set on a view (rt_db_view): statements go to these shared sessions. */
    rt_db_pipeline *pipeline;
};

static const char *g_application_name = "wallet-platform";
static atomic_bool g_interrupted;

void rt_db_set_application_name(const char *name)
{
    g_application_name = name;
}

void rt_db_interrupt_all(void)
{
    atomic_store(&g_interrupted, true);
}

bool rt_db_interrupted(void)
{
    return atomic_load(&g_interrupted);
}

/* The first line of libpq's message, which names the failure without the
 * multi-line hints. */
static char *first_line(const char *text)
{
    size_t n = strcspn(text ? text : "", "\n");
    return strndup(text ? text : "", n);
}

static char *format_error(const char *fmt, const char *a, const char *b)
{
    char *out = NULL;
    if (asprintf(&out, fmt, a, b) < 0)
        out = NULL;
    return out;
}

/* The reason a prepare failed, without SQL. */
static char *prepare_error(rt_db *db, const rt_db_statement *s, const PGresult *res)
{
    char *reason = first_line(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
    if (!reason || !*reason) {
        free(reason);
        reason = first_line(PQerrorMessage(db->conn));
    }
    char *error = format_error("cannot prepare statement %s: %s", s->name, reason);
    free(reason);
    return error;
}

/* Prepares every statement in one round trip (pipeline mode: all Parse
 * messages, then one Sync) rather than one each, which was most of a
 * session's set-up time. On failure returns the (SQL-free) reason. */
static char *prepare_all(rt_db *db)
{
    if (!PQenterPipelineMode(db->conn))
        return first_line(PQerrorMessage(db->conn));
    bool sent = true;
    for (size_t i = 0; i < db->n_statements && sent; i++) {
        const rt_db_statement *s = &db->statements[i];
        sent = PQsendPrepare(db->conn, s->name, s->sql, s->n_params, NULL);
    }
    sent = sent && PQpipelineSync(db->conn);
    char *error = sent ? NULL : first_line(PQerrorMessage(db->conn));
    /* One result per statement, each followed by a NULL, then the Sync's;
     * after a failure the rest come back PGRES_PIPELINE_ABORTED. */
    for (size_t i = 0; sent;) {
        PGresult *res = PQgetResult(db->conn);
        if (!res) {
            if (PQstatus(db->conn) == CONNECTION_BAD)
                break;
            continue;
        }
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            break;
        }
        if (st != PGRES_COMMAND_OK && st != PGRES_PIPELINE_ABORTED && !error)
            error = prepare_error(db, &db->statements[i < db->n_statements ? i : 0], res);
        PQclear(res);
        i++;
    }
    if (!error && PQstatus(db->conn) != CONNECTION_OK)
        error = first_line(PQerrorMessage(db->conn));
    PQexitPipelineMode(db->conn);
    return error;
}

static rt_db *db_new(const char *url, const rt_db_statement *statements, size_t n_statements)
{
    rt_db *db = calloc(1, sizeof *db);
    if (!db)
        abort();
    char *search_path = NULL;
    char *rewritten = rt_db_url_for_libpq(url, &search_path);
    db->url = rewritten ? rewritten : strdup(url);
    snprintf(db->options, sizeof db->options, "-c TimeZone=UTC -c DateStyle=ISO%s%s",
             search_path ? " -c search_path=" : "", search_path ? search_path : "");
    free(search_path);
    db->statements = statements;
    db->n_statements = n_statements;
    db->deadline = gpr_inf_future(GPR_CLOCK_MONOTONIC);
    pthread_mutex_init(&db->opening, NULL);
    return db;
}

/* Connects and prepares; NULL, or why not (malloc'd, without secrets). */
static char *open_session(rt_db *db)
{
    /* connect_timeout comes before the URL so the URL may override it; the
     * session settings come after so it may not. */
    const char *keys[] = {"connect_timeout", "dbname", "options", "application_name", NULL};
    const char *values[] = {"5", db->url, db->options, g_application_name, NULL};
    db->conn = PQconnectdbParams(keys, values, 1);
    char *error = NULL;
    if (PQstatus(db->conn) != CONNECTION_OK) {
        char *where = rt_db_describe_url(db->url);
        char *reason = first_line(PQerrorMessage(db->conn));
        error = format_error("cannot connect to database %s: %s", where, reason);
        free(reason);
        free(where);
    } else if (!(error = prepare_all(db))) {
        rt_metrics_db_up(&db->counted_up, true);
    }
    return error;
}

rt_db *rt_db_connect(const char *url, const rt_db_statement *statements, size_t n_statements,
                     char **error)
{
    rt_db *db = db_new(url, statements, n_statements);
    *error = open_session(db);
    atomic_store(&db->opened, true);
    if (*error) {
        rt_db_close(db);
        db = NULL;
    }
    return db;
}

rt_db *rt_db_open_later(const char *url, const rt_db_statement *statements, size_t n_statements)
{
    return db_new(url, statements, n_statements);
}

/* The first attempt to open a session from rt_db_open_later; later ones
 * are reconnects. A failure is logged, and the session then behaves like
 * one whose connection broke. */
void rt_db_open_pending(rt_db *db)
{
    if (atomic_load(&g_interrupted) || atomic_load(&db->opened))
        return;
    pthread_mutex_lock(&db->opening);
    if (!atomic_load(&db->opened)) {
        char *error = open_session(db);
        if (error)
            rt_log(RT_LOG_ERROR, "%s", error);
        free(error);
        atomic_store(&db->opened, true);
    }
    pthread_mutex_unlock(&db->opening);
}

void rt_db_close(rt_db *db)
{
    if (!db)
        return;
    if (!db->pipeline)
        rt_metrics_db_up(&db->counted_up, false);
    PQfinish(db->conn);
    pthread_mutex_destroy(&db->opening);
    free(db->url);
    free(db);
}

bool rt_db_healthy(rt_db *db)
{
    return atomic_load(&db->opened) && PQstatus(db->conn) == CONNECTION_OK;
}

void rt_db_set_deadline(rt_db *db, gpr_timespec deadline)
{
    db->deadline = rt_deadline_monotonic(deadline);
}

bool rt_db_opened(rt_db *db)
{
    return atomic_load(&db->opened);
}

PGconn *rt_db_conn(rt_db *db)
{
    return db->conn;
}

rt_db *rt_db_view(rt_db_pipeline *pipeline)
{
    rt_db *db = db_new("", NULL, 0);
    db->pipeline = pipeline;
    atomic_store(&db->opened, true);
    return db;
}

void rt_db_mark_lost(rt_db *db)
{
    rt_metrics_db_up(&db->counted_up, false);
}

bool rt_db_reconnect(rt_db *db)
{
    PQreset(db->conn);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        char *reason = first_line(PQerrorMessage(db->conn));
        rt_log(RT_LOG_ERROR, "database reconnect failed: %s", reason);
        free(reason);
        return false;
    }
    char *error = prepare_all(db);
    if (error) {
        rt_log(RT_LOG_ERROR, "database reconnected but %s", error);
        free(error);
        return false;
    }
    rt_log(RT_LOG_INFO, "database reconnected");
    rt_metrics_db_up(&db->counted_up, true);
    return true;
}

/* The server went away (as opposed to refusing the statement). */
static bool connection_lost(PGconn *conn, const char *sqlstate)
{
    if (PQstatus(conn) == CONNECTION_BAD || !sqlstate)
        return true;
    return strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P01") == 0 ||
           strcmp(sqlstate, "57P02") == 0 || strcmp(sqlstate, "57P03") == 0;
}

void rt_db_cancel(rt_db *db)
{
    char err[256];
    PGcancel *cancel = PQgetCancel(db->conn);
    if (!cancel || !PQcancel(cancel, err, sizeof err))
        rt_log(RT_LOG_WARN, "database cancel request failed");
    PQfreeCancel(cancel);
}

rt_db_outcome rt_db_take_result(rt_db *db, const rt_db_statement *stmt, PGresult *res,
                                grpc_status_code cancelled_as, PGresult **result, rt_status *status)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        /* A cancel that lost the race: the statement did complete. */
        *result = res;
        *status = RT_OK;
        return RT_DB_DONE;
    }
    const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (cancelled_as == GRPC_STATUS_OK && connection_lost(db->conn, sqlstate)) {
        PQclear(res);
        return RT_DB_BROKEN;
    }
    if (cancelled_as != GRPC_STATUS_OK && sqlstate && strcmp(sqlstate, "57014") == 0) {
        *status = cancelled_as == GRPC_STATUS_CANCELLED
                      ? rt_status_of(GRPC_STATUS_CANCELLED, "server shutting down")
                      : rt_status_of(GRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded");
    } else {
        *status = rt_db_status_for_sqlstate(sqlstate);
        /* Expected refusals (duplicates, conflicts) are the caller's
         * business; anything unmapped is a bug or an outage worth paging. */
        rt_log_level level = status->code == GRPC_STATUS_INTERNAL ? RT_LOG_ERROR : RT_LOG_WARN;
        /* Data exceptions (class 22) quote the offending parameter value. */
        bool quotes_values = sqlstate && strncmp(sqlstate, "22", 2) == 0;
        char *reason = quotes_values ? strdup("data exception")
                                     : first_line(res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                                                      : PQerrorMessage(db->conn));
        rt_log(level, "database statement %s failed: SQLSTATE %s: %s", stmt->name,
               sqlstate ? sqlstate : "none", reason);
        free(reason);
    }
    PQclear(res);
    return RT_DB_DONE;
}

rt_status rt_db_exec(rt_db *db, const rt_db_statement *stmt, const char *const *params,
                     PGresult **result)
{
    *result = NULL;
    if (!db->pipeline) {
        rt_log(RT_LOG_ERROR, "statement %s run on a session, not on a fiber's view", stmt->name);
        return rt_status_of(GRPC_STATUS_INTERNAL, "internal error");
    }
    return rt_db_pipeline_exec(db->pipeline, db->deadline, stmt, params, result);
}
