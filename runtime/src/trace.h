/* W3C Trace Context (issue 22, item 3). Each call joins the caller's trace
 * (its traceparent/tracestate metadata) or starts one, gets a span id of
 * its own, passes the trace on to the peer calls it makes, and names both
 * ids in its log lines. When OTEL_EXPORTER_OTLP_ENDPOINT is set, sampled
 * spans -- the server call, each database statement (its prepared name,
 * never its parameters), each peer call -- go to an OTLP/HTTP collector
 * from a thread of their own (otlp_export.h) through a bounded queue: a
 * call only copies a small record into it, never waits for the collector,
 * and a full queue drops the span and counts it.
 *
 * Cost per call: parsing one header, two or three ids from a per-thread
 * generator (no system call), their hex text; a span record only when
 * exporting and sampled. Settings: OpenTelemetry's environment variables
 * (OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER and _ARG, OTEL_EXPORTER_OTLP_*,
 * OTEL_BSP_*), see docs/operations.md. */
#ifndef RT_TRACE_H
#define RT_TRACE_H

#include <grpc/grpc.h>
#include <grpc/status.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RT_TRACEPARENT_LEN 55 /* "00-" 32 hex "-" 16 hex "-" 2 hex */
#define RT_TRACESTATE_MAX 512 /* W3C: at most 32 members of 128 bytes, practically far less */

typedef struct {
    uint8_t trace_id[16];
    uint8_t span_id[8];   /* this call's server span */
    uint8_t parent_id[8]; /* the caller's span; all zero when this call started the trace */
    uint8_t flags;        /* trace-flags: bit 0 sampled */
    char trace_hex[33];
    char span_hex[17];
    const char *state; /* tracestate as received (in the call's metadata), or NULL */
    size_t state_len;
} rt_trace;

/* What one span says, copied into the export queue. name must outlive the
 * process (a method path, a statement name: generated literals). */
typedef enum { RT_SPAN_SERVER, RT_SPAN_CLIENT, RT_SPAN_DB } rt_span_kind;
typedef struct {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t parent_id[8]; /* all zero: a root span */
    rt_span_kind kind;
    const char *name;
    int64_t start_ns, end_ns; /* Unix time */
    grpc_status_code code;
} rt_span;

/* Reads the OTEL_* environment; starts the exporter when an endpoint is
 * set. service_name: the default for OTEL_SERVICE_NAME. */
void rt_trace_init(const char *service_name, const char *version);
/* Sends what is queued (bounded wait) and stops the exporter. */
void rt_trace_shutdown(void);

/* The call's trace from its metadata: the caller's traceparent when it is
 * valid (its trace id, its span as parent, its flags) with its tracestate,
 * else a new trace sampled per OTEL_TRACES_SAMPLER; and a new span id. */
void rt_trace_begin(rt_trace *t, const grpc_metadata_array *md);
/* A child span of t (a peer call): a new span id, and the traceparent
 * header naming it (NUL-terminated). */
void rt_trace_child(const rt_trace *t, uint8_t span_id[8], char traceparent[RT_TRACEPARENT_LEN + 1]);
/* True when t's spans are exported (an endpoint is set, t is sampled). */
bool rt_trace_recording(const rt_trace *t);

/* The call whose fiber runs on this thread now (NULL: none); statements
 * are its children (rt_trace_statement). */
void rt_trace_set_current(const rt_trace *t);
/* A database statement of the current call ended; start from the
 * monotonic clock. */
void rt_trace_statement(const char *name, gpr_timespec start, grpc_status_code code);
/* A span of t (server or client) from a monotonic start until now. */
void rt_trace_end_span(const rt_trace *t, rt_span_kind kind, const char *name, const uint8_t span_id[8],
                       const uint8_t parent_id[8], gpr_timespec start, grpc_status_code code);

#endif
