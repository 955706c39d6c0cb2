/* OTLP/HTTP JSON export of spans (trace.h) on a thread of its own: spans
 * wait in a bounded ring and go out in batches, at least every schedule
 * delay, to <endpoint>/v1/traces. Calls only ever take the ring's lock to
 * copy a record in; the thread holds it only to take a batch out, never
 * while talking to the collector, so a collector that never answers costs
 * a call nothing: the ring fills, further spans are dropped and counted
 * (wallet_trace_spans_dropped_total). Plain http:// collectors (the usual
 * local agent or collector sidecar); memory is the ring, fixed at start. */
#ifndef RT_OTLP_EXPORT_H
#define RT_OTLP_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "trace.h"

typedef struct {
    const char *url;          /* full URL of the traces endpoint, http:// */
    const char *service_name; /* resource attribute service.name */
    const char *version;      /* service.version and the scope's */
    size_t queue_size;        /* OTEL_BSP_MAX_QUEUE_SIZE */
    size_t batch_size;        /* OTEL_BSP_MAX_EXPORT_BATCH_SIZE */
    int delay_ms;             /* OTEL_BSP_SCHEDULE_DELAY */
    int timeout_ms;           /* OTEL_EXPORTER_OTLP_TIMEOUT: one export, connect to answer */
} rt_otlp_config;

/* False (and a log line) when the URL is not one it can send to. */
bool rt_otlp_start(const rt_otlp_config *config);
/* Copies s into the ring (any thread); false when it is full (dropped). */
bool rt_otlp_enqueue(const rt_span *s);
/* Ends the export in progress and makes one last one of what is queued,
 * within a second in all, and the thread ends. */
void rt_otlp_stop(void);

/* The OTLP JSON body for spans[n] (malloc'd, *len bytes); for tests too. */
char *rt_otlp_json(const rt_span *spans, size_t n, const char *service_name, const char *version, size_t *len);

#endif
