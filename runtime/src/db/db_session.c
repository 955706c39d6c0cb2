/* Sessions (db_session.h): a small state machine per connection, DOWN ->
 * CONNECTING -> PREPARING -> UP, stepped by whoever polls it (the fiber
 * thread, or the start-up thread through rt_db_session_open), so nothing
 * here ever blocks on the network or on DNS. libpq ignores connect_timeout
 * in this mode and gives a multi-host URL one deadline for all its hosts,
 * so a hung host (a frozen primary that still accepts TCP) would hold the
 * attempt and never let it reach the next one: the session tries the
 * URL's hosts itself, one at a time, each with a deadline of its own, and
 * looks host names up off the thread (db_resolve.h). */
#include "db_session.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_control.h"
#include "db_locks.h"
#include "db_policy.h"
#include "db_resolve.h"
#include "db_url.h"
#include "deadline.h"
#include "log.h"
#include "metrics.h"


struct rt_db_session {
    PGconn *conn;
    rt_db_session_state state;
    const rt_db_statement *statements;
    size_t n_statements;
    size_t prepared;       /* PREPARING: prepare results seen */
    bool want_write;       /* PREPARING: libpq holds output the socket did not take */
    int connect_wants;     /* CONNECTING: the last PostgresPollingStatusType */
    char *url;             /* libpq form of the configured URL */
    char options[256];     /* session settings */
    char *failure;         /* why the last attempt failed, or NULL */
    bool prepare_failed;
    /* The URL's hosts and their ports (NULL: libpq's default), tried in
     * turn from first_host; n_hosts 0: the URL names none (a Unix socket,
     * hostaddr), libpq connects as it says. */
    char **hosts, **ports;
    size_t n_hosts, host, tried, first_host;
    rt_db_resolve *resolving; /* CONNECTING: the host's name being looked up */
    char *reasons;            /* why each host of this attempt failed */
    gpr_timespec host_deadline;
    int host_ms;
    bool writer; /* counted in rt_db_writable: the writer, not the lock waiter */
    rt_db_session_role role;
    int lock_timeout_ms;
    gpr_timespec attempt_started, attempt_deadline, next_attempt, up_since; /* monotonic */
    int backoff_ms; /* the next backoff step; back to the first only after a session that stayed up */
    int attempt_ms;
    unsigned jitter_state;
    bool counted_up; /* as last reported to metrics */
};

/* The database layer's own statements, prepared after the daemon's. */
static const rt_db_statement *const g_own[] = {&rt_db_group_locks, &rt_db_alone_locks};
#define N_OWN (sizeof g_own / sizeof *g_own)

/* The statement the session prepares as number i: the daemon's, then the
 * database layer's own. */
static const rt_db_statement *statement_at(const rt_db_session *s, size_t i)
{
    return i < s->n_statements ? &s->statements[i] : g_own[i - s->n_statements];
}

static const char *g_application_name = "wallet-platform";
/* False while the last session to try could not prepare its statements:
 * the daemon then says NOT_SERVING (health.c) rather than failing calls. */
static atomic_bool g_statements_ready = true;
/* Writer sessions not UP: writes cannot go out, so health says NOT_SERVING
 * even when its own probe reaches a primary (a session still on the way to
 * it after a failover). */
static atomic_int g_writers_down;

void rt_db_set_application_name(const char *name)
{
    g_application_name = name;
}

bool rt_db_statements_ready(void)
{
    return atomic_load(&g_statements_ready);
}

bool rt_db_writable(void)
{
    return atomic_load(&g_writers_down) == 0;
}

/* Every state change in and out of UP goes through here. */
static void set_state(rt_db_session *s, rt_db_session_state state)
{
    if (s->writer && (s->state == RT_DB_SESSION_UP) != (state == RT_DB_SESSION_UP))
        atomic_fetch_add(&g_writers_down, state == RT_DB_SESSION_UP ? -1 : 1);
    s->state = state;
}

static gpr_timespec now(void)
{
    return gpr_now(GPR_CLOCK_MONOTONIC);
}

static gpr_timespec after_ms(gpr_timespec t, int ms)
{
    return gpr_time_add(t, gpr_time_from_millis(ms, GPR_TIMESPAN));
}

/* The first line of libpq's message, which names the failure without the
 * multi-line hints. */
static char *first_line(const char *text)
{
    size_t n = strcspn(text ? text : "", "\n");
    return strndup(text ? text : "", n);
}

static void set_failure(rt_db_session *s, bool prepare_failed, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_failure(rt_db_session *s, bool prepare_failed, const char *fmt, ...)
{
    free(s->failure);
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s->failure, fmt, ap) < 0)
        s->failure = NULL;
    va_end(ap);
    s->prepare_failed = prepare_failed;
}

/* libpq's notices and warnings (a server shutting down says so before it
 * closes the connection) as log lines, not raw text on stderr. */
static void notice_to_log(void *arg, const PGresult *res)
{
    (void)arg;
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    char *message = first_line(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
    bool quiet = severity && (strcmp(severity, "NOTICE") == 0 || strcmp(severity, "DEBUG") == 0 ||
                              strcmp(severity, "LOG") == 0 || strcmp(severity, "INFO") == 0);
    rt_log(quiet ? RT_LOG_DEBUG : RT_LOG_WARN, "database %s: %s (SQLSTATE %s)", severity ? severity : "notice",
           message ? message : "", sqlstate ? sqlstate : "none");
    free(message);
}

/* The comma-separated list text as n malloc'd strings; false when one is
 * empty (libpq's default there, left to libpq). */
static bool split_list(const char *text, char ***items, size_t *n)
{
    *n = 1;
    for (const char *c = text; *c; c++)
        *n += *c == ',';
    *items = calloc(*n, sizeof **items);
    if (!*items)
        abort();
    const char *start = text;
    for (size_t i = 0; i < *n; i++) {
        size_t len = strcspn(start, ",");
        if (len == 0)
            return false;
        (*items)[i] = strndup(start, len);
        start += len + 1;
    }
    return true;
}

static void free_list(char **items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        free(items[i]);
    free(items);
}

/* The hosts the session tries itself (see the file comment), from the
 * parsed URL. None when it sets hostaddr or leaves a host to libpq's
 * default, or when the ports do not pair with the hosts: libpq then
 * connects (or names the mistake) as it always would. */
static void parse_hosts(rt_db_session *s)
{
    PQconninfoOption *options = PQconninfoParse(s->url, NULL);
    const char *host = NULL, *port = NULL, *hostaddr = NULL;
    for (PQconninfoOption *o = options; o && o->keyword; o++) {
        if (strcmp(o->keyword, "host") == 0)
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "hostaddr") == 0)
            hostaddr = o->val;
    }
    size_t n_ports = 0;
    char **ports = NULL;
    bool ok = host && *host && !(hostaddr && *hostaddr) && split_list(host, &s->hosts, &s->n_hosts);
    if (ok && port && *port) {
        ok = split_list(port, &ports, &n_ports) && (n_ports == 1 || n_ports == s->n_hosts);
        s->ports = calloc(s->n_hosts, sizeof *s->ports);
        if (!s->ports)
            abort();
        for (size_t i = 0; ok && i < s->n_hosts; i++)
            s->ports[i] = strdup(ports[n_ports == 1 ? 0 : i]);
    }
    free_list(ports, n_ports);
    if (!ok) {
        free_list(s->hosts, s->n_hosts);
        free_list(s->ports, s->n_hosts);
        s->hosts = s->ports = NULL;
        s->n_hosts = 0;
    }
    PQconninfoFree(options);
}

rt_db_session *rt_db_session_new(const char *url, const rt_db_statement *statements, size_t n_statements,
                                 rt_db_session_role role, int lock_timeout_ms)
{
    rt_db_session *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    char *search_path = NULL;
    char *rewritten = rt_db_url_for_libpq(url, &search_path);
    s->url = rewritten ? rewritten : strdup(url);
    char role_setting[64];
    if (role == RT_DB_READER)
        snprintf(role_setting, sizeof role_setting, " -c default_transaction_read_only=on");
    else
        snprintf(role_setting, sizeof role_setting, " -c lock_timeout=%d", lock_timeout_ms);
    snprintf(s->options, sizeof s->options, "-c TimeZone=UTC -c DateStyle=ISO%s%s%s", role_setting,
             search_path ? " -c search_path=" : "", search_path ? search_path : "");
    free(search_path);
    parse_hosts(s);
    s->statements = statements;
    s->n_statements = n_statements;
    s->state = RT_DB_SESSION_DOWN;
    s->writer = role == RT_DB_WRITER;
    s->role = role;
    s->lock_timeout_ms = role == RT_DB_READER ? 0 : lock_timeout_ms;
    if (s->writer)
        atomic_fetch_add(&g_writers_down, 1);
    s->next_attempt = now();
    s->backoff_ms = RT_DB_BACKOFF_FIRST_MS;
    s->attempt_ms = RT_DB_ATTEMPT_MS;
    s->host_ms = RT_DB_HOST_MS;
    s->jitter_state = (unsigned)(uintptr_t)s ^ (unsigned)s->next_attempt.tv_nsec;
    return s;
}

/* Closes the connection without waiting: libpq's goodbye message goes
 * into the socket buffer or nowhere. A lookup still running is left to
 * its thread. */
static void drop_connection(rt_db_session *s)
{
    if (s->conn) {
        PQsetnonblocking(s->conn, 1);
        PQfinish(s->conn);
    }
    s->conn = NULL;
    s->want_write = false;
    rt_db_resolve_free(s->resolving);
    s->resolving = NULL;
}

void rt_db_session_free(rt_db_session *s)
{
    if (!s)
        return;
    if (s->state == RT_DB_SESSION_UP)
        rt_metrics_db_up(&s->counted_up, false);
    set_state(s, RT_DB_SESSION_DOWN);
    if (s->writer)
        atomic_fetch_sub(&g_writers_down, 1);
    drop_connection(s);
    free(s->failure);
    free(s->reasons);
    free_list(s->hosts, s->n_hosts);
    free_list(s->ports, s->n_hosts);
    free(s->url);
    free(s);
}

rt_db_session_state rt_db_session_state_of(const rt_db_session *s)
{
    return s->state;
}

PGconn *rt_db_session_conn(const rt_db_session *s)
{
    return s->conn;
}

rt_db_session_role rt_db_session_role_of(const rt_db_session *s)
{
    return s->role;
}

int rt_db_session_lock_timeout_ms(const rt_db_session *s)
{
    return s->lock_timeout_ms;
}

const char *rt_db_session_failure(const rt_db_session *s, bool *prepare_failed)
{
    if (prepare_failed)
        *prepare_failed = s->prepare_failed;
    return s->failure;
}

/* Delay before the next attempt: a random point in the upper half of the
 * current backoff, which then doubles up to the cap. */
static int next_backoff(rt_db_session *s)
{
    s->jitter_state = s->jitter_state * 1103515245u + 12345u;
    int half = s->backoff_ms / 2;
    int delay = half + (int)((s->jitter_state >> 8) % (unsigned)(half + 1));
    s->backoff_ms = s->backoff_ms * 2 > RT_DB_BACKOFF_MAX_MS ? RT_DB_BACKOFF_MAX_MS : s->backoff_ms * 2;
    return delay;
}

static rt_db_session_event attempt_failed(rt_db_session *s)
{
    drop_connection(s);
    set_state(s, RT_DB_SESSION_DOWN);
    s->next_attempt = after_ms(now(), next_backoff(s));
    if (s->prepare_failed)
        atomic_store(&g_statements_ready, false);
    return RT_DB_SESSION_FAILED;
}

static rt_db_session_event connection_failed(rt_db_session *s, const char *why)
{
    char *where = rt_db_describe_url(s->url);
    char *reason = first_line(why ? why : (s->conn ? PQerrorMessage(s->conn) : "out of memory"));
    set_failure(s, false, "cannot connect to database %s: %s", where ? where : "?", reason);
    free(reason);
    free(where);
    return attempt_failed(s);
}

/* Starts libpq on the URL, with host, hostaddr and port overriding it
 * when given (NULL: as the URL says). */
static void connect_to(rt_db_session *s, const char *host, const char *hostaddr, const char *port)
{
    /* The session settings come after the URL so it may not override them.
     * Keepalives and tcp_user_timeout let the kernel find a connection
     * whose packets go nowhere even when no cancel of ours is pending
     * (a statement without a deadline). */
    const char *keys[] = {"dbname", "options", "application_name", "keepalives", "keepalives_idle",
                          "keepalives_interval", "keepalives_count", "tcp_user_timeout", "host", "hostaddr",
                          "port", NULL};
    const char *values[] = {s->url, s->options, g_application_name, "1", "10", "3", "3", "10000", host, hostaddr,
                            port, NULL};
    s->conn = PQconnectStartParams(keys, values, 1);
    s->connect_wants = PGRES_POLLING_WRITING; /* as libpq's documentation says to begin */
    if (s->conn && PQstatus(s->conn) != CONNECTION_BAD)
        PQsetNoticeReceiver(s->conn, notice_to_log, NULL);
}

static rt_db_session_event host_failed(rt_db_session *s, const char *why, bool timed_out);

/* Host i of the URL, with a deadline of its own: looked up first when it
 * is a name. */
static rt_db_session_event start_host(rt_db_session *s, size_t i)
{
    s->host = i;
    s->tried++;
    s->attempt_deadline = after_ms(now(), s->attempt_ms);
    s->host_deadline = after_ms(now(), s->n_hosts > 1 ? s->host_ms : s->attempt_ms);
    set_state(s, RT_DB_SESSION_CONNECTING);
    if (rt_db_host_is_numeric(s->hosts[i]))
        connect_to(s, s->hosts[i], NULL, s->ports ? s->ports[i] : NULL);
    else if (!(s->resolving = rt_db_resolve_start(s->hosts[i])))
        return host_failed(s, "cannot start a host name lookup", false);
    if (!s->resolving && (!s->conn || PQstatus(s->conn) == CONNECTION_BAD))
        return host_failed(s, NULL, false);
    return RT_DB_SESSION_BUSY;
}

/* The text repeated n times, comma-separated, malloc'd. */
static char *repeated(const char *text, size_t n)
{
    size_t len = strlen(text) + 1;
    char *out = malloc(len * n);
    if (!out)
        abort();
    for (size_t i = 0; i < n; i++) {
        memcpy(out + i * len, text, len - 1);
        out[i * len + len - 1] = i + 1 < n ? ',' : '\0';
    }
    return out;
}

/* The name of the host being tried now has its addresses: connect to them
 * (libpq tries each in turn; host still names it, for TLS and passwords). */
static rt_db_session_event resolved(rt_db_session *s)
{
    char *address = NULL, *error = NULL;
    if (!rt_db_resolve_result(s->resolving, &address, &error))
        return RT_DB_SESSION_BUSY;
    rt_db_resolve_free(s->resolving);
    s->resolving = NULL;
    rt_db_session_event ev = RT_DB_SESSION_BUSY;
    if (!address) {
        char why[256];
        snprintf(why, sizeof why, "cannot resolve host: %s", error ? error : "?");
        ev = host_failed(s, why, false);
    } else {
        size_t n = 1;
        for (const char *c = address; *c; c++)
            n += *c == ',';
        char *hosts = repeated(s->hosts[s->host], n);
        char *ports = s->ports ? repeated(s->ports[s->host], n) : NULL;
        connect_to(s, hosts, address, ports);
        free(hosts);
        free(ports);
        if (!s->conn || PQstatus(s->conn) == CONNECTION_BAD)
            ev = host_failed(s, NULL, false);
    }
    free(address);
    free(error);
    return ev;
}

static rt_db_session_event start_attempt(rt_db_session *s)
{
    s->prepare_failed = false; /* until this attempt's prepares say otherwise */
    s->attempt_started = now();
    s->tried = 0;
    free(s->reasons);
    s->reasons = NULL;
    if (s->n_hosts)
        return start_host(s, s->first_host);
    s->attempt_deadline = s->host_deadline = after_ms(s->attempt_started, s->attempt_ms);
    set_state(s, RT_DB_SESSION_CONNECTING);
    connect_to(s, NULL, NULL, NULL);
    if (!s->conn || PQstatus(s->conn) == CONNECTION_BAD)
        return connection_failed(s, NULL);
    return RT_DB_SESSION_BUSY;
}

/* The host being tried did not give a session: the next one of the URL,
 * or the attempt failed when each was tried. A host that timed out (hung)
 * goes last in the next attempt, so after a failover the session does not
 * wait on it before reaching the new primary. */
static rt_db_session_event host_failed(rt_db_session *s, const char *why, bool timed_out)
{
    if (!s->n_hosts)
        return connection_failed(s, why);
    char *reason = first_line(why ? why : (s->conn ? PQerrorMessage(s->conn) : "out of memory"));
    char *reasons = NULL;
    if (asprintf(&reasons, "%s%s%s:%s: %s", s->reasons ? s->reasons : "", s->reasons ? "; " : "",
                 s->hosts[s->host], s->ports ? s->ports[s->host] : "default", reason) < 0)
        reasons = NULL;
    free(reason);
    free(s->reasons);
    s->reasons = reasons;
    if (timed_out && s->first_host == s->host)
        s->first_host = (s->host + 1) % s->n_hosts;
    drop_connection(s);
    if (s->tried < s->n_hosts)
        return start_host(s, (s->host + 1) % s->n_hosts);
    return connection_failed(s, s->reasons);
}

/* Connected: pipeline mode, non-blocking, every statement prepared in one
 * round trip (all Parse messages, then one Sync). */
static rt_db_session_event send_prepares(rt_db_session *s)
{
    if (PQsetnonblocking(s->conn, 1) != 0 || !PQenterPipelineMode(s->conn))
        return connection_failed(s, NULL);
    for (size_t i = 0; i < s->n_statements + N_OWN; i++) {
        const rt_db_statement *st = statement_at(s, i);
        if (!PQsendPrepare(s->conn, st->name, st->sql, st->n_params, NULL))
            return connection_failed(s, NULL);
    }
    if (!PQpipelineSync(s->conn))
        return connection_failed(s, NULL);
    int flushed = PQflush(s->conn);
    if (flushed < 0)
        return connection_failed(s, NULL);
    s->want_write = flushed == 1;
    s->prepared = 0;
    s->state = RT_DB_SESSION_PREPARING;
    return RT_DB_SESSION_BUSY;
}

static rt_db_session_event opened(rt_db_session *s)
{
    set_state(s, RT_DB_SESSION_UP);
    if (s->n_hosts)
        s->first_host = s->host; /* the next attempt starts where this one found a session */
    s->up_since = now();
    free(s->failure);
    s->failure = NULL;
    s->prepare_failed = false;
    atomic_store(&g_statements_ready, true);
    rt_metrics_db_up(&s->counted_up, true);
    return RT_DB_SESSION_OPENED;
}

/* The prepare results: one per statement (each followed by a NULL), then
 * the Sync's; after a failure the rest come back PGRES_PIPELINE_ABORTED. */
static rt_db_session_event read_prepares(rt_db_session *s)
{
    if (!PQconsumeInput(s->conn))
        return connection_failed(s, NULL);
    int nulls = 0;
    while (!PQisBusy(s->conn)) {
        PGresult *res = PQgetResult(s->conn);
        if (!res) {
            if (++nulls > 1)
                break;
            continue;
        }
        nulls = 0;
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            return s->prepare_failed ? attempt_failed(s) : opened(s);
        }
        if (st != PGRES_COMMAND_OK && st != PGRES_PIPELINE_ABORTED && !s->prepare_failed) {
            const rt_db_statement *failed = statement_at(s, s->prepared < s->n_statements + N_OWN ? s->prepared : 0);
            char *reason = first_line(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
            set_failure(s, true, "cannot prepare statement %s: %s (is every migration applied? see make migrate)",
                        failed->name, reason && *reason ? reason : "unknown error");
            free(reason);
        }
        PQclear(res);
        s->prepared++;
    }
    if (PQstatus(s->conn) == CONNECTION_BAD)
        return connection_failed(s, NULL);
    return RT_DB_SESSION_BUSY;
}

short rt_db_session_events(rt_db_session *s, int *fd, int *timeout_ms)
{
    *fd = -1;
    if (s->state == RT_DB_SESSION_UP)
        return 0;
    gpr_timespec until = s->state == RT_DB_SESSION_DOWN         ? s->next_attempt
                         : s->state == RT_DB_SESSION_CONNECTING ? s->host_deadline
                                                                : s->attempt_deadline;
    int wait = (int)rt_deadline_ms_left(until, 60000);
    if (*timeout_ms < 0 || wait < *timeout_ms)
        *timeout_ms = wait;
    short events = 0;
    if (s->resolving) {
        *fd = rt_db_resolve_fd(s->resolving);
        return POLLIN;
    }
    if (s->state == RT_DB_SESSION_CONNECTING)
        events = s->connect_wants == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    else if (s->state == RT_DB_SESSION_PREPARING)
        events = (short)(POLLIN | (s->want_write ? POLLOUT : 0));
    if (events)
        *fd = PQsocket(s->conn);
    return *fd >= 0 ? events : 0;
}

rt_db_session_event rt_db_session_step(rt_db_session *s, short revents)
{
    switch (s->state) {
    case RT_DB_SESSION_UP:
        return RT_DB_SESSION_BUSY;
    case RT_DB_SESSION_DOWN:
        if (!rt_deadline_passed(s->next_attempt))
            return RT_DB_SESSION_BUSY;
        return start_attempt(s);
    default:
        break;
    }
    if (s->state == RT_DB_SESSION_CONNECTING) {
        if (s->resolving && revents)
            return resolved(s);
        if (!revents && rt_deadline_passed(s->host_deadline))
            return host_failed(s, "timeout expired", true);
        if (!revents || s->resolving)
            return RT_DB_SESSION_BUSY;
        s->connect_wants = PQconnectPoll(s->conn);
        if (s->connect_wants == PGRES_POLLING_FAILED)
            return host_failed(s, NULL, false);
        return s->connect_wants == PGRES_POLLING_OK ? send_prepares(s) : RT_DB_SESSION_BUSY;
    }
    if (!revents && rt_deadline_passed(s->attempt_deadline))
        return connection_failed(s, "no answer to the prepares in time");
    if (revents & POLLOUT) {
        int flushed = PQflush(s->conn);
        if (flushed < 0)
            return connection_failed(s, NULL);
        s->want_write = flushed == 1;
    }
    if (revents & (POLLIN | POLLERR | POLLHUP))
        return read_prepares(s);
    return RT_DB_SESSION_BUSY;
}

void rt_db_session_lost(rt_db_session *s)
{
    if (s->state != RT_DB_SESSION_UP)
        return;
    rt_metrics_db_up(&s->counted_up, false);
    char *reason = first_line(PQerrorMessage(s->conn));
    set_failure(s, false, "database connection lost: %s", reason && *reason ? reason : "closed");
    free(reason);
    drop_connection(s);
    set_state(s, RT_DB_SESSION_DOWN);
    /* A session that stayed up a while tries again at once (a restart is
     * often over by then) and backs off afresh; one lost soon after it
     * opened (a server that accepts and then drops) keeps backing off, so
     * a flapping server gets no more than one attempt per step either. */
    if (rt_elapsed_ms(s->up_since) >= RT_DB_BACKOFF_MAX_MS) {
        s->backoff_ms = RT_DB_BACKOFF_FIRST_MS;
        s->next_attempt = now();
    } else {
        s->next_attempt = after_ms(now(), next_backoff(s));
    }
}

bool rt_db_session_backing_off(const rt_db_session *s)
{
    return s->state == RT_DB_SESSION_DOWN && !rt_deadline_passed(s->next_attempt);
}

bool rt_db_session_attempt_by(const rt_db_session *s, gpr_timespec deadline)
{
    return !rt_db_session_backing_off(s) ||
           gpr_time_cmp(after_ms(s->next_attempt, RT_DB_WAIT_MARGIN_MS), deadline) < 0;
}

bool rt_db_session_open(rt_db_session *s, char **error)
{
    *error = NULL;
    s->attempt_ms = RT_DB_START_ATTEMPT_MS;
    s->host_ms = s->n_hosts > 1 ? RT_DB_START_ATTEMPT_MS / (int)s->n_hosts : RT_DB_START_ATTEMPT_MS;
    for (;;) {
        int timeout = -1, fd;
        short events = rt_db_session_events(s, &fd, &timeout);
        struct pollfd pfd = {.fd = fd, .events = events};
        if (poll(&pfd, 1, timeout) < 0)
            pfd.revents = 0; /* EINTR: look again */
        rt_db_session_event ev = rt_db_session_step(s, pfd.revents);
        if (ev == RT_DB_SESSION_BUSY)
            continue;
        s->attempt_ms = RT_DB_ATTEMPT_MS;
        s->host_ms = RT_DB_HOST_MS;
        if (ev == RT_DB_SESSION_OPENED)
            return true;
        *error = strdup(s->failure ? s->failure : "cannot connect to the database");
        return false;
    }
}
