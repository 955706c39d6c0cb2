/* Business events a handler counts (issue 22, item 4): balance changes,
 * transfers, replays... as Prometheus counters on the daemon's /metrics,
 * beside the runtime's own series. A counter is a static object declared
 * once at file scope; it is registered at program load, so it is scraped
 * as 0 before its first event, and counting is one relaxed atomic add: no
 * allocation, no lock, no system call on the call's path.
 *
 *   RT_COUNTER(credits, "wallet_balance_changes_total", "kind=\"credit\"",
 *              "Balance changes applied, by kind.");
 *   ...
 *   rt_counter_add(&credits, 1);
 *
 * Counters sharing a name are one family with different labels (one of
 * them carries the help text, the others may give ""); names follow Prometheus' guide: <app>_<what>_<unit>_total. */
#ifndef RT_EVENTS_H
#define RT_EVENTS_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct rt_counter {
    const char *name;
    const char *labels; /* rendered label pairs, e.g. kind="credit"; "" for none */
    const char *help;
    atomic_uint_fast64_t value;
    struct rt_counter *next; /* in the registry, in registration order */
} rt_counter;

/* Adds n (any thread). */
static inline void rt_counter_add(rt_counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

/* Before main (RT_COUNTER does it). */
void rt_counter_register(rt_counter *c);

#define RT_COUNTER(id, metric_name, label_pairs, help_text)                                          \
    static rt_counter id = {.name = metric_name, .labels = label_pairs, .help = help_text};           \
    __attribute__((constructor)) static void id##_register(void) { rt_counter_register(&id); }

#endif
