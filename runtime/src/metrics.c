/* The metrics registry (metrics.h): fixed tables of atomic counters, one
 * row per method, claimed lock-free on first use, and the text rendering.
 *
 * Rows are found by comparing method paths, pointer first: the paths are
 * generated literals, so the comparison nearly always ends there. A row is
 * claimed by a compare-and-swap of its path, so the scrape thread sees a row
 * either absent or complete (its counters start at 0). */
#include "metrics.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_runtime.h"
#include "status.h"

#define N_CODES 17 /* OK .. UNAUTHENTICATED */

/* Upper bounds in seconds; one more bucket (+Inf) follows. */
static const double bounds[] = {.0005, .001, .0025, .005, .01, .025, .05, .1,
                                .25,   .5,   1,    2.5,  5,   10};
#define N_BOUNDS (sizeof bounds / sizeof bounds[0])

typedef struct {
    _Atomic(const char *) path; /* NULL: free */
    atomic_uint_fast64_t started;
    atomic_uint_fast64_t handled[N_CODES];
    atomic_uint_fast64_t buckets[N_BOUNDS + 1]; /* per bucket, not cumulative */
    atomic_uint_fast64_t sum_ns;
} row;

typedef struct {
    const char *prefix; /* "grpc_server" */
    const char *what;   /* for HELP */
    row rows[RT_METRICS_MAX_METHODS];
} table;

static table g_server = {.prefix = "grpc_server", .what = "RPCs"};
static table g_client = {.prefix = "grpc_client", .what = "RPCs to peer services"};
static atomic_bool g_counting;
static atomic_size_t g_db_sessions;
static atomic_int g_db_up;

/* The row of path, claiming a free one the first time; NULL when full. */
static row *row_of(table *t, const char *path)
{
    for (size_t i = 0; i < RT_METRICS_MAX_METHODS; i++) {
        row *r = &t->rows[i];
        const char *p = atomic_load_explicit(&r->path, memory_order_acquire);
        if (!p && atomic_compare_exchange_strong(&r->path, &p, path))
            return r;
        if (p == path || strcmp(p, path) == 0)
            return r;
    }
    return NULL;
}

static void add(atomic_uint_fast64_t *counter, uint_fast64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static void started(table *t, const char *path)
{
    row *r = atomic_load_explicit(&g_counting, memory_order_relaxed) ? row_of(t, path) : NULL;
    if (r)
        add(&r->started, 1);
}

static void handled(table *t, const char *path, grpc_status_code code, double seconds)
{
    row *r = atomic_load_explicit(&g_counting, memory_order_relaxed) ? row_of(t, path) : NULL;
    if (!r)
        return;
    add(&r->handled[(unsigned)code < N_CODES ? code : GRPC_STATUS_UNKNOWN], 1);
    size_t b = 0;
    while (b < N_BOUNDS && seconds > bounds[b])
        b++;
    add(&r->buckets[b], 1);
    add(&r->sum_ns, seconds > 0 ? (uint_fast64_t)(seconds * 1e9) : 0);
}

void rt_metrics_init(const rt_service *service, size_t db_sessions)
{
    atomic_store(&g_counting, false);
    /* Nothing counts or renders while counting is off. */
    memset(g_server.rows, 0, sizeof g_server.rows);
    memset(g_client.rows, 0, sizeof g_client.rows);
    for (size_t i = 0; i < service->n_methods; i++)
        row_of(&g_server, service->methods[i].path);
    atomic_store(&g_db_sessions, db_sessions);
    atomic_store(&g_counting, true);
}

void rt_metrics_server_started(const rt_method *method)
{
    if (method)
        started(&g_server, method->path);
}

void rt_metrics_server_handled(const rt_method *method, grpc_status_code code, double seconds)
{
    if (method)
        handled(&g_server, method->path, code, seconds);
}

void rt_metrics_client_started(const char *path)
{
    started(&g_client, path);
}

void rt_metrics_client_handled(const char *path, grpc_status_code code, double seconds)
{
    handled(&g_client, path, code, seconds);
}

void rt_metrics_db_up(bool *counted, bool up)
{
    if (*counted == up)
        return;
    *counted = up;
    atomic_fetch_add_explicit(&g_db_up, up ? 1 : -1, memory_order_relaxed);
}

static uint_fast64_t get(atomic_uint_fast64_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

/* grpc_type="unary",grpc_service="user.UserService",grpc_method="CreateUser"
 * from "/user.UserService/CreateUser" (paths need no escaping: they are
 * generated identifiers). */
static void put_labels(FILE *out, const char *path)
{
    const char *service = path[0] == '/' ? path + 1 : path;
    const char *slash = strrchr(service, '/');
    int service_len = slash ? (int)(slash - service) : 0;
    fprintf(out, "grpc_type=\"unary\",grpc_service=\"%.*s\",grpc_method=\"%s\"", service_len,
            service, slash ? slash + 1 : service);
}

static void put_family(FILE *out, const table *t, const char *name, const char *type,
                       const char *help)
{
    fprintf(out, "# HELP %s_%s %s\n# TYPE %s_%s %s\n", t->prefix, name, help, t->prefix, name, type);
}

static void render_table(FILE *out, table *t)
{
    char help[128];
    size_t n = 0;
    while (n < RT_METRICS_MAX_METHODS && atomic_load_explicit(&t->rows[n].path, memory_order_acquire))
        n++;

    snprintf(help, sizeof help, "Total number of %s started.", t->what);
    put_family(out, t, "started_total", "counter", help);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s_started_total{", t->prefix);
        put_labels(out, t->rows[i].path);
        fprintf(out, "} %ju\n", (uintmax_t)get(&t->rows[i].started));
    }
    snprintf(help, sizeof help, "Total number of %s completed, by status code.", t->what);
    put_family(out, t, "handled_total", "counter", help);
    for (size_t i = 0; i < n; i++)
        for (int code = 0; code < N_CODES; code++) {
            fprintf(out, "%s_handled_total{", t->prefix);
            put_labels(out, t->rows[i].path);
            fprintf(out, ",grpc_code=\"%s\"} %ju\n", rt_status_code_name((grpc_status_code)code),
                    (uintmax_t)get(&t->rows[i].handled[code]));
        }
    snprintf(help, sizeof help, "Time from arrival to the answer sent, in seconds, of %s.", t->what);
    put_family(out, t, "handling_seconds", "histogram", help);
    for (size_t i = 0; i < n; i++) {
        row *r = &t->rows[i];
        uint_fast64_t cumulative = 0;
        for (size_t b = 0; b <= N_BOUNDS; b++) {
            cumulative += get(&r->buckets[b]);
            fprintf(out, "%s_handling_seconds_bucket{", t->prefix);
            put_labels(out, r->path);
            if (b < N_BOUNDS)
                fprintf(out, ",le=\"%g\"} %ju\n", bounds[b], (uintmax_t)cumulative);
            else
                fprintf(out, ",le=\"+Inf\"} %ju\n", (uintmax_t)cumulative);
        }
        fprintf(out, "%s_handling_seconds_sum{", t->prefix);
        put_labels(out, r->path);
        fprintf(out, "} %.9g\n%s_handling_seconds_count{", (double)get(&r->sum_ns) / 1e9, t->prefix);
        put_labels(out, r->path);
        fprintf(out, "} %ju\n", (uintmax_t)cumulative);
    }
}

char *rt_metrics_render(size_t *len)
{
    char *text = NULL;
    FILE *out = open_memstream(&text, len);
    if (!out)
        return NULL;
    render_table(out, &g_server);
    render_table(out, &g_client);
    size_t sessions = atomic_load(&g_db_sessions);
    int up = atomic_load(&g_db_up);
    size_t up_n = up < 0 ? 0 : (size_t)up > sessions ? sessions : (size_t)up;
    fprintf(out,
            "# HELP db_pool_connections Database sessions of the daemon, by state.\n"
            "# TYPE db_pool_connections gauge\n"
            "db_pool_connections{state=\"up\"} %zu\n"
            "db_pool_connections{state=\"down\"} %zu\n",
            up_n, sessions - up_n);
    rt_metrics_runtime_render(out, sessions);
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
