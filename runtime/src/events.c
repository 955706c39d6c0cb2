/* The registry of business counters (events.h): a list filled at program
 * load, before any thread exists, and only read afterwards (the scrape). */
#include "events.h"

#include <stdio.h>
#include <string.h>

#include "metrics_runtime.h"

static rt_counter *g_head, **g_tail = &g_head;

void rt_counter_register(rt_counter *c)
{
    c->next = NULL;
    *g_tail = c;
    g_tail = &c->next;
}

/* Each family once (HELP from whichever member has it: constructors run in
 * no promised order, TYPE), then its counters. */
void rt_events_render(FILE *out)
{
    for (rt_counter *c = g_head; c; c = c->next) {
        bool first = true;
        for (rt_counter *e = g_head; e != c; e = e->next)
            first = first && strcmp(e->name, c->name) != 0;
        if (!first)
            continue;
        const char *help = "";
        for (rt_counter *m = c; m && !help[0]; m = m->next)
            if (strcmp(m->name, c->name) == 0)
                help = m->help;
        fprintf(out, "# HELP %s %s\n# TYPE %s counter\n", c->name, help, c->name);
        for (rt_counter *m = c; m; m = m->next)
            if (strcmp(m->name, c->name) == 0)
                fprintf(out, "%s%s%s%s %ju\n", m->name, m->labels[0] ? "{" : "", m->labels,
                        m->labels[0] ? "}" : "", (uintmax_t)atomic_load_explicit(&m->value, memory_order_relaxed));
    }
}
