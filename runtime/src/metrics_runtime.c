/* The runtime's series beyond gRPC's (metrics_runtime.h). Statement rows
 * are claimed like metrics.c's method rows: by a compare-and-swap of the
 * name pointer (generated literals), so a scrape sees a row absent or
 * whole. */
#include "metrics_runtime.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

/* Upper bounds in seconds; +Inf follows. */
static const double bounds[] = {.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5};
#define N_BOUNDS (sizeof bounds / sizeof bounds[0])
/* Write group sizes: statements per transaction; +Inf follows. */
static const unsigned group_bounds[] = {1, 2, 4, 8, 16, 32, 64};
#define N_GROUP_BOUNDS (sizeof group_bounds / sizeof group_bounds[0])
static const char *const class_names[] = {"callers", "peers", "health"};
#define N_CLASSES (sizeof class_names / sizeof class_names[0])

typedef struct {
    _Atomic(const char *) name;
    atomic_uint_fast64_t buckets[N_BOUNDS + 1];
    atomic_uint_fast64_t sum_ns;
} statement_row;

static struct {
    const char *daemon, *version;
    statement_row statements[RT_METRICS_MAX_STATEMENTS];
    atomic_uint_fast64_t groups[N_GROUP_BOUNDS + 1];
    atomic_uint_fast64_t group_statements;
    atomic_uint_fast64_t commits[N_BOUNDS + 1]; /* commit waits, by bounds */
    atomic_uint_fast64_t commit_ns;
    atomic_uint_fast64_t reconnects;
    atomic_size_t busy, idle;
    atomic_bool serving;
    atomic_uint_fast64_t refused[N_CLASSES][2]; /* [class][full] */
} g;

static void add(atomic_uint_fast64_t *counter, uint_fast64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static uint_fast64_t get(atomic_uint_fast64_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

static statement_row *statement_of(const char *name)
{
    for (size_t i = 0; i < RT_METRICS_MAX_STATEMENTS; i++) {
        statement_row *r = &g.statements[i];
        const char *n = atomic_load_explicit(&r->name, memory_order_acquire);
        if (!n && atomic_compare_exchange_strong(&r->name, &n, name))
            return r;
        if (n == name || strcmp(n, name) == 0)
            return r;
    }
    return NULL;
}

void rt_metrics_runtime_init(const rt_service *service, const char *version)
{
    g.daemon = service->daemon_name;
    g.version = version;
    for (size_t i = 0; i < service->n_statements; i++)
        statement_of(service->statements[i].name);
}

/* One observation of seconds into a histogram over bounds. */
static void observe(atomic_uint_fast64_t *buckets, atomic_uint_fast64_t *sum_ns, double seconds)
{
    size_t b = 0;
    while (b < N_BOUNDS && seconds > bounds[b])
        b++;
    add(&buckets[b], 1);
    add(sum_ns, seconds > 0 ? (uint_fast64_t)(seconds * 1e9) : 0);
}

void rt_metrics_statement(const char *name, double seconds)
{
    statement_row *r = statement_of(name);
    if (r)
        observe(r->buckets, &r->sum_ns, seconds);
}

void rt_metrics_db_commit(double seconds)
{
    observe(g.commits, &g.commit_ns, seconds);
}

void rt_metrics_db_group(size_t n)
{
    size_t b = 0;
    while (b < N_GROUP_BOUNDS && n > group_bounds[b])
        b++;
    add(&g.groups[b], 1);
    add(&g.group_statements, n);
}

void rt_metrics_db_reconnected(void)
{
    add(&g.reconnects, 1);
}

void rt_metrics_db_sessions(size_t busy, size_t idle)
{
    atomic_store_explicit(&g.busy, busy, memory_order_relaxed);
    atomic_store_explicit(&g.idle, idle, memory_order_relaxed);
}

void rt_metrics_admission_refused(int class, bool full)
{
    if (class >= 0 && (size_t)class < N_CLASSES)
        add(&g.refused[class][full], 1);
}

void rt_metrics_serving(bool serving)
{
    atomic_store_explicit(&g.serving, serving, memory_order_relaxed);
}

/* The _bucket, _sum and _count lines of histogram NAME over bounds;
 * labels: "" or 'key="value"'. */
static void render_seconds(FILE *out, const char *name, const char *labels, atomic_uint_fast64_t *buckets,
                           atomic_uint_fast64_t *sum_ns)
{
    const char *sep = *labels ? "," : "";
    uint_fast64_t cumulative = 0;
    for (size_t b = 0; b <= N_BOUNDS; b++) {
        cumulative += get(&buckets[b]);
        if (b < N_BOUNDS)
            fprintf(out, "%s_bucket{%s%sle=\"%g\"} %ju\n", name, labels, sep, bounds[b], (uintmax_t)cumulative);
        else
            fprintf(out, "%s_bucket{%s%sle=\"+Inf\"} %ju\n", name, labels, sep, (uintmax_t)cumulative);
    }
    const char *open = *labels ? "{" : "", *close = *labels ? "}" : "";
    fprintf(out, "%s_sum%s%s%s %.9g\n%s_count%s%s%s %ju\n", name, open, labels, close, (double)get(sum_ns) / 1e9,
            name, open, labels, close, (uintmax_t)cumulative);
}

static void render_statements(FILE *out)
{
    fputs("# HELP wallet_db_statement_duration_seconds Time from a statement's submission to its answer, "
          "as its call waited (queue, group commit, round trip), by prepared statement name.\n"
          "# TYPE wallet_db_statement_duration_seconds histogram\n",
          out);
    for (size_t i = 0; i < RT_METRICS_MAX_STATEMENTS; i++) {
        statement_row *r = &g.statements[i];
        const char *name = atomic_load_explicit(&r->name, memory_order_acquire);
        if (!name)
            break;
        char labels[128];
        snprintf(labels, sizeof labels, "statement=\"%s\"", name);
        render_seconds(out, "wallet_db_statement_duration_seconds", labels, r->buckets, &r->sum_ns);
    }
}

static void render_groups(FILE *out)
{
    fputs("# HELP wallet_db_write_group_statements Statements per write transaction (group commit).\n"
          "# TYPE wallet_db_write_group_statements histogram\n",
          out);
    uint_fast64_t cumulative = 0;
    for (size_t b = 0; b <= N_GROUP_BOUNDS; b++) {
        cumulative += get(&g.groups[b]);
        if (b < N_GROUP_BOUNDS)
            fprintf(out, "wallet_db_write_group_statements_bucket{le=\"%u\"} %ju\n", group_bounds[b],
                    (uintmax_t)cumulative);
        else
            fprintf(out, "wallet_db_write_group_statements_bucket{le=\"+Inf\"} %ju\n", (uintmax_t)cumulative);
    }
    fprintf(out, "wallet_db_write_group_statements_sum %ju\nwallet_db_write_group_statements_count %ju\n",
            (uintmax_t)get(&g.group_statements), (uintmax_t)cumulative);
    fputs("# HELP wallet_db_write_commit_seconds Time a write transaction waited for its commit: from its last "
          "statement's result to the commit's confirmation (with a synchronous standby, the standby's flush).\n"
          "# TYPE wallet_db_write_commit_seconds histogram\n",
          out);
    render_seconds(out, "wallet_db_write_commit_seconds", "", g.commits, &g.commit_ns);
}

void rt_metrics_runtime_render(FILE *out, size_t db_sessions)
{
    render_statements(out);
    render_groups(out);
    size_t busy = atomic_load_explicit(&g.busy, memory_order_relaxed);
    size_t idle = atomic_load_explicit(&g.idle, memory_order_relaxed);
    size_t open = busy + idle > db_sessions ? db_sessions : busy + idle;
    fprintf(out,
            "# HELP wallet_db_sessions Database sessions of the daemon, by state (busy: statements in flight).\n"
            "# TYPE wallet_db_sessions gauge\n"
            "wallet_db_sessions{state=\"busy\"} %zu\nwallet_db_sessions{state=\"idle\"} %zu\n"
            "wallet_db_sessions{state=\"down\"} %zu\n",
            busy, open - (busy < open ? busy : open), db_sessions - open);
    fprintf(out,
            "# HELP wallet_db_reconnects_total Database sessions opened again after a loss.\n"
            "# TYPE wallet_db_reconnects_total counter\nwallet_db_reconnects_total %ju\n",
            (uintmax_t)get(&g.reconnects));
    fputs("# HELP wallet_admission_refused_total Calls refused RESOURCE_EXHAUSTED by admission control, by class "
          "and reason (full: no room in the class; wait: its queue wait ran out).\n"
          "# TYPE wallet_admission_refused_total counter\n",
          out);
    for (size_t k = 0; k < N_CLASSES; k++)
        for (int full = 1; full >= 0; full--)
            fprintf(out, "wallet_admission_refused_total{class=\"%s\",reason=\"%s\"} %ju\n", class_names[k],
                    full ? "full" : "wait", (uintmax_t)get(&g.refused[k][full]));
    fprintf(out,
            "# HELP wallet_serving 1 while health Check says SERVING (database reachable, statements prepared, "
            "not draining).\n# TYPE wallet_serving gauge\nwallet_serving %d\n",
            atomic_load_explicit(&g.serving, memory_order_relaxed) ? 1 : 0);
    fprintf(out,
            "# HELP wallet_build_info The daemon's name and version; always 1.\n"
            "# TYPE wallet_build_info gauge\nwallet_build_info{daemon=\"%s\",version=\"%s\"} 1\n",
            g.daemon ? g.daemon : "", g.version ? g.version : "");
    rt_events_render(out);
}
