/* Structured logs: one JSON object per line on stderr, so log collectors can
 * parse them without rules. Lines carry the daemon name and, inside a call,
 * the method, request id and the caller's certificate identity. Payloads and secrets never go into a line. */
#ifndef RT_LOG_H
#define RT_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum { RT_LOG_DEBUG, RT_LOG_INFO, RT_LOG_WARN, RT_LOG_ERROR } rt_log_level;

/* Optional keys of a line; NULL (or has_duration false) leaves a key out. */
typedef struct {
    const char *method;
    const char *code;
    bool has_duration;
    double duration_ms;
    const char *request_id;
    const char *address;
    const char *identity; /* the caller's verified certificate: SPIFFE URI or subject */
    const char *trace_id; /* W3C trace context of the call: 32 hex */
    const char *span_id;  /* its server span: 16 hex */
} rt_log_fields;

void rt_log_init(const char *service, rt_log_level min_level);

/* Lines are written one write(2) each until a daemon starts buffering: then
 * they gather in one buffer written when full, within ~10 ms by a thread of
 * its own, at once for a warn or error line, and by abort()'s (SIGABRT) handler.
 * Stopping (before exit) writes what is left; rt_log_flush writes it
 * without stopping (before _exit). */
void rt_log_start_buffering(void);
void rt_log_stop_buffering(void);
void rt_log_flush(void);
/* "debug", "info", "warn", "error" (case-insensitive). */
bool rt_log_parse_level(const char *text, rt_log_level *out);
const char *rt_log_level_name(rt_log_level level);
bool rt_log_enabled(rt_log_level level);

/* A line with no call context beyond the thread's (see rt_log_set_call). */
void rt_log(rt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rt_log_with(rt_log_level level, const rt_log_fields *fields, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The call this thread is serving; lines logged meanwhile (database events,
 * peer calls) name it and its caller's identity. NULLs clear it, and its
 * trace ids with it. */
void rt_log_set_call(const char *method, const char *request_id, const char *identity);
/* The trace and span ids of the call set by rt_log_set_call (after it). */
void rt_log_set_trace(const char *trace_id, const char *span_id);

/* rt_log_with for callers that already hold a va_list (rt_log_call_event). */
void rt_log_withv(rt_log_level level, const rt_log_fields *fields, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Formats one line (with the trailing newline, NUL-terminated) into buf;
 * exposed for tests. Never overflows: an over-long msg is cut at a
 * character boundary. Returns the length written. */
size_t rt_log_format(char *buf, size_t cap, const char *time, rt_log_level level,
                     const char *service, const rt_log_fields *fields, const char *msg);

#endif
