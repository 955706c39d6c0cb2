/* Trace context and spans (trace.h). Ids come from a per-thread
 * xorshift64* generator seeded once per thread from getrandom(2): trace
 * ids need to be unique, not secret, and a system call per id would be one
 * per call. Monotonic times become Unix times with an offset taken once. */
#include "trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "hex.h"
#include "log.h"
#include "otlp_export.h"

typedef enum { ALWAYS_ON, ALWAYS_OFF, RATIO } root_sampler;

static struct {
    bool exporting;
    bool parent_based; /* a caller's sampled flag decides (the default) */
    root_sampler root;
    uint64_t ratio_bound; /* RATIO: sampled when the trace id's low 8 bytes < this */
    int64_t unix_offset_ns; /* Unix minus monotonic */
} g = {.parent_based = true, .root = ALWAYS_ON};

static _Thread_local uint64_t t_rng;
static _Thread_local const rt_trace *t_current;

static uint64_t next_random(void)
{
    if (t_rng == 0) {
        if (getrandom(&t_rng, sizeof t_rng, 0) != sizeof t_rng || t_rng == 0)
            t_rng = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull | 1;
    }
    t_rng ^= t_rng >> 12;
    t_rng ^= t_rng << 25;
    t_rng ^= t_rng >> 27;
    return t_rng * 0x2545F4914F6CDD1Dull;
}

/* Random bytes, never all zero (W3C: an all-zero id is invalid). */
static void random_id(uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = next_random();
        memcpy(out + i, &r, n - i < 8 ? n - i : 8);
    }
    out[n - 1] |= 1;
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Lowercase hex (W3C allows no other) into bytes; false when not hex or
 * all zero. */
static bool parse_hex(const char *s, size_t n, uint8_t *out)
{
    uint8_t any = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
        any |= out[i];
    }
    return any != 0;
}

/* "00-<trace>-<span>-<flags>": version 00 is exactly that; a later
 * version may append "-..." fields (kept to its known prefix); ff, ids all
 * zero and anything not lowercase hex are invalid. */
static bool parse_traceparent(const char *v, size_t len, rt_trace *t)
{
    if (len < RT_TRACEPARENT_LEN || v[2] != '-' || v[35] != '-' || v[52] != '-')
        return false;
    int hi = hex_value(v[0]), lo = hex_value(v[1]), f_hi = hex_value(v[53]), f_lo = hex_value(v[54]);
    if (hi < 0 || lo < 0 || f_hi < 0 || f_lo < 0 || (hi == 15 && lo == 15))
        return false;
    if (hi == 0 && lo == 0 ? len != RT_TRACEPARENT_LEN : len > RT_TRACEPARENT_LEN && v[RT_TRACEPARENT_LEN] != '-')
        return false;
    if (!parse_hex(v + 3, 16, t->trace_id) || !parse_hex(v + 36, 8, t->parent_id))
        return false;
    t->flags = (uint8_t)((f_hi << 4 | f_lo) & 1);
    return true;
}

/* tracestate passed on as received when it is plausible: printable ASCII
 * within the size bound (its members are the vendors' business). */
static void take_state(const char *v, size_t len, rt_trace *t)
{
    if (len == 0 || len > RT_TRACESTATE_MAX)
        return;
    for (size_t i = 0; i < len; i++)
        if (v[i] < 0x20 || v[i] > 0x7E)
            return;
    t->state = v;
    t->state_len = len;
}

static bool sample_root(const uint8_t trace_id[16])
{
    if (g.root == ALWAYS_ON)
        return true;
    if (g.root == ALWAYS_OFF)
        return false;
    uint64_t low = 0;
    for (int i = 8; i < 16; i++)
        low = low << 8 | trace_id[i];
    return low < g.ratio_bound;
}

void rt_trace_begin(rt_trace *t, const grpc_metadata_array *md)
{
    memset(t, 0, sizeof *t);
    bool joined = false;
    const grpc_slice *state = NULL;
    for (size_t i = 0; i < md->count; i++) {
        const grpc_metadata *m = &md->metadata[i];
        if (!joined && grpc_slice_str_cmp(m->key, "traceparent") == 0)
            joined = parse_traceparent((const char *)GRPC_SLICE_START_PTR(m->value), GRPC_SLICE_LENGTH(m->value), t);
        else if (!state && grpc_slice_str_cmp(m->key, "tracestate") == 0)
            state = &m->value;
    }
    if (joined) {
        if (!g.parent_based)
            t->flags = sample_root(t->trace_id);
        if (state)
            take_state((const char *)GRPC_SLICE_START_PTR(*state), GRPC_SLICE_LENGTH(*state), t);
    } else {
        memset(t->parent_id, 0, sizeof t->parent_id);
        random_id(t->trace_id, sizeof t->trace_id);
        t->flags = sample_root(t->trace_id);
    }
    random_id(t->span_id, sizeof t->span_id);
    rt_hex(t->trace_id, 16, t->trace_hex);
    rt_hex(t->span_id, 8, t->span_hex);
}

void rt_trace_child(const rt_trace *t, uint8_t span_id[8], char traceparent[RT_TRACEPARENT_LEN + 1])
{
    random_id(span_id, 8);
    memcpy(traceparent, "00-", 3);
    memcpy(traceparent + 3, t->trace_hex, 32);
    traceparent[35] = '-';
    rt_hex(span_id, 8, traceparent + 36);
    traceparent[52] = '-';
    traceparent[53] = '0';
    traceparent[54] = t->flags & 1 ? '1' : '0';
    traceparent[55] = '\0';
}

bool rt_trace_recording(const rt_trace *t)
{
    return g.exporting && (t->flags & 1);
}

void rt_trace_set_current(const rt_trace *t)
{
    t_current = t;
}

static int64_t unix_ns(gpr_timespec monotonic)
{
    return monotonic.tv_sec * 1000000000ll + monotonic.tv_nsec + g.unix_offset_ns;
}

void rt_trace_end_span(const rt_trace *t, rt_span_kind kind, const char *name, const uint8_t span_id[8],
                       const uint8_t parent_id[8], gpr_timespec start, grpc_status_code code)
{
    if (!rt_trace_recording(t))
        return;
    rt_span s = {.kind = kind, .name = name, .code = code, .start_ns = unix_ns(start),
                 .end_ns = unix_ns(gpr_now(GPR_CLOCK_MONOTONIC))};
    memcpy(s.trace_id, t->trace_id, sizeof s.trace_id);
    memcpy(s.span_id, span_id, sizeof s.span_id);
    memcpy(s.parent_id, parent_id, sizeof s.parent_id);
    rt_otlp_enqueue(&s);
}

void rt_trace_statement(const char *name, gpr_timespec start, grpc_status_code code)
{
    const rt_trace *t = t_current;
    if (!t || !rt_trace_recording(t))
        return;
    uint8_t id[8];
    random_id(id, sizeof id);
    rt_trace_end_span(t, RT_SPAN_DB, name, id, t->span_id, start, code);
}

static long env_long(const char *name, long fallback, long min, long max)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return fallback;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < min || n > max) {
        rt_log(RT_LOG_WARN, "%s=%s is not a number in %ld..%ld: using %ld", name, v, min, max, fallback);
        return fallback;
    }
    return n;
}

/* OTEL_TRACES_SAMPLER (and _ARG for the ratio samplers), as OpenTelemetry
 * defines them; parentbased_always_on when unset or unknown. */
static void read_sampler(void)
{
    const char *s = getenv("OTEL_TRACES_SAMPLER");
    const char *arg = getenv("OTEL_TRACES_SAMPLER_ARG");
    if (!s || !*s)
        s = "parentbased_always_on";
    g.parent_based = strncmp(s, "parentbased_", 12) == 0;
    const char *root = g.parent_based ? s + 12 : s;
    double ratio = 1.0;
    if (arg && *arg) {
        char *end;
        double r = strtod(arg, &end);
        if (*end == '\0' && r >= 0 && r <= 1)
            ratio = r;
        else
            rt_log(RT_LOG_WARN, "OTEL_TRACES_SAMPLER_ARG=%s is not a ratio in 0..1: using 1", arg);
    }
    if (strcmp(root, "always_on") == 0) {
        g.root = ALWAYS_ON;
    } else if (strcmp(root, "always_off") == 0) {
        g.root = ALWAYS_OFF;
    } else if (strcmp(root, "traceidratio") == 0) {
        g.root = RATIO;
        g.ratio_bound = ratio >= 1 ? UINT64_MAX : (uint64_t)(ratio * 18446744073709551616.0);
    } else {
        rt_log(RT_LOG_WARN, "OTEL_TRACES_SAMPLER=%s is not supported: using parentbased_always_on", s);
        g.parent_based = true;
        g.root = ALWAYS_ON;
    }
}

void rt_trace_init(const char *service_name, const char *version)
{
    struct timespec mono, real;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &real);
    g.unix_offset_ns = (real.tv_sec - mono.tv_sec) * 1000000000ll + (real.tv_nsec - mono.tv_nsec);
    read_sampler();
    const char *traces = getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    const char *base = getenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    static char url[1024];
    if (traces && *traces)
        snprintf(url, sizeof url, "%s", traces);
    else if (base && *base)
        snprintf(url, sizeof url, "%s%sv1/traces", base, base[strlen(base) - 1] == '/' ? "" : "/");
    else
        return;
    const char *name = getenv("OTEL_SERVICE_NAME");
    long queue = env_long("OTEL_BSP_MAX_QUEUE_SIZE", 2048, 1, 1 << 20);
    rt_otlp_config config = {
        .url = url,
        .service_name = name && *name ? name : service_name,
        .version = version,
        .queue_size = (size_t)queue,
        .batch_size = (size_t)env_long("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", queue < 512 ? queue : 512, 1, queue),
        .delay_ms = (int)env_long("OTEL_BSP_SCHEDULE_DELAY", 5000, 1, 3600000),
        .timeout_ms = (int)env_long("OTEL_EXPORTER_OTLP_TIMEOUT", 10000, 1, 3600000),
    };
    g.exporting = rt_otlp_start(&config);
}

void rt_trace_shutdown(void)
{
    if (g.exporting)
        rt_otlp_stop();
    g.exporting = false;
}
