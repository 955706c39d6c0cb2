/* JSON-lines logger (log.h). Each line is built whole, then either written
 * with a single write(2) or, once a daemon called rt_log_start_buffering,
 * appended whole to one shared buffer that is written when full, by a
 * flusher thread at most RT_LOG_FLUSH_MS after its first line, at once for
 * a warn or error line, and on the way out (rt_log_stop_buffering, rt_log_flush,
 * and SIGABRT's handler). Either way lines never interleave. A
 * write(2) per line was a system call per served call on the polling
 * thread (issue 24); now ~150 lines share one. */
#include "log.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "timefmt.h"
#include "rules.h"

#define RT_LOG_LINE_MAX 4096

static const char *g_service = "daemon";
static atomic_int g_min_level = RT_LOG_INFO;
static _Thread_local const char *t_method;
static _Thread_local const char *t_request_id;
static _Thread_local const char *t_identity;
static _Thread_local const char *t_trace_id;
static _Thread_local const char *t_span_id;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

#define RT_LOG_BUFFER (32 * 1024)
#define RT_LOG_FLUSH_MS 10

/* The shared buffer; the lock also orders the writes themselves. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t flusher;
    bool on;      /* buffering started */
    bool waiting; /* the flusher sleeps until a first line arrives */
    bool stop;
    size_t len;
    char buf[RT_LOG_BUFFER];
} g_out = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void write_all(const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, p, len);
        if (n <= 0)
            return; /* nowhere left to report a failing stderr (EINTR: SA_RESTART) */
        p += n;
        len -= (size_t)n;
    }
}

/* Under the lock. */
static void flush_locked(void)
{
    write_all(g_out.buf, g_out.len);
    g_out.len = 0;
}

void rt_log_flush(void)
{
    pthread_mutex_lock(&g_out.lock);
    flush_locked();
    pthread_mutex_unlock(&g_out.lock);
}

/* Sleeps until there is something, waits RT_LOG_FLUSH_MS for more to
 * gather, writes it: one write(2) per burst instead of one per line. */
static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "log-flush");
    pthread_mutex_lock(&g_out.lock);
    while (!g_out.stop) {
        if (g_out.len == 0) {
            g_out.waiting = true;
            pthread_cond_wait(&g_out.cond, &g_out.lock);
            g_out.waiting = false;
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += RT_LOG_FLUSH_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!g_out.stop && pthread_cond_timedwait(&g_out.cond, &g_out.lock, &until) == 0)
            ;
        flush_locked();
    }
    flush_locked();
    pthread_mutex_unlock(&g_out.lock);
    return NULL;
}

/* abort(), the runtime's answer to a broken invariant, must not take the
 * buffered lines with it: they are written (write(2) is async-signal-safe;
 * the lock is not taken, the aborting thread may hold it) and the signal is
 * raised again with its default action. SIGSEGV and its kin are left to
 * the default (a core dump keeps the buffer): handlers for them made the
 * daemons under valgrind miss the peer-connect budget in flow.test.js. */
static const int fatal_signals[] = {SIGABRT};

static void on_fatal(int sig)
{
    size_t len = g_out.len;
    write_all(g_out.buf, len < sizeof g_out.buf ? len : sizeof g_out.buf);
    signal(sig, SIG_DFL);
    raise(sig);
}

void rt_log_start_buffering(void)
{
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
        struct sigaction old; /* a sanitizer's or debugger's handler stays */
        if (sigaction(fatal_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
            !(old.sa_flags & SA_SIGINFO))
            signal(fatal_signals[i], on_fatal);
    }
    pthread_mutex_lock(&g_out.lock);
    g_out.stop = false;
    g_out.on = pthread_create(&g_out.flusher, NULL, flusher_main, NULL) == 0;
    pthread_mutex_unlock(&g_out.lock);
}

void rt_log_stop_buffering(void)
{
    pthread_mutex_lock(&g_out.lock);
    bool on = g_out.on;
    g_out.on = false;
    g_out.stop = true;
    pthread_cond_signal(&g_out.cond);
    pthread_mutex_unlock(&g_out.lock);
    if (on)
        pthread_join(g_out.flusher, NULL);
    rt_log_flush();
}

/* One whole line out: written at once, or into the buffer. */
static void put_line(rt_log_level level, const char *line, size_t len)
{
    pthread_mutex_lock(&g_out.lock);
    if (!g_out.on) {
        write_all(line, len);
    } else {
        if (g_out.len + len > sizeof g_out.buf)
            flush_locked();
        memcpy(g_out.buf + g_out.len, line, len);
        g_out.len += len;
        if (level >= RT_LOG_WARN) /* what went wrong is out before the answer is */
            flush_locked();
        else if (g_out.waiting && g_out.len == len)
            pthread_cond_signal(&g_out.cond);
    }
    pthread_mutex_unlock(&g_out.lock);
}

void rt_log_init(const char *service, rt_log_level min_level)
{
    g_service = service;
    atomic_store(&g_min_level, (int)min_level);
}

bool rt_log_parse_level(const char *text, rt_log_level *out)
{
    for (int i = RT_LOG_DEBUG; i <= RT_LOG_ERROR; i++) {
        if (strcasecmp(text, level_names[i]) == 0) {
            *out = (rt_log_level)i;
            return true;
        }
    }
    return false;
}

const char *rt_log_level_name(rt_log_level level)
{
    return level_names[level];
}

bool rt_log_enabled(rt_log_level level)
{
    return (int)level >= atomic_load(&g_min_level);
}

void rt_log_set_call(const char *method, const char *request_id, const char *identity)
{
    t_method = method;
    t_request_id = request_id;
    t_identity = identity;
    t_trace_id = t_span_id = NULL;
}

void rt_log_set_trace(const char *trace_id, const char *span_id)
{
    t_trace_id = trace_id;
    t_span_id = span_id;
}

/* A bounded buffer; cap excludes the room kept for the closing "}\n" and NUL. */
typedef struct {
    char *buf;
    size_t cap;
    size_t len;
} out_buf;

static void put_raw(out_buf *o, const char *s, size_t n)
{
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

/* Bytes of the UTF-8 character at p, or 0 when it is not well-formed. */
static size_t utf8_char_len(const unsigned char *p)
{
    size_t n = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 0;
    if (n == 0 || strnlen((const char *)p, n) < n)
        return 0;
    return rt_rule_utf8((const char *)p, n) ? n : 0;
}

/* The bytes a JSON string holds as they are: printable ASCII but the quote
 * and the backslash. A table, so the scan of a run costs one load per byte
 * (the four comparisons it replaced were ~4% of an empty call's instructions). */
#define PLAIN(c) ((c) >= 0x20 && (c) < 0x7F && (c) != '"' && (c) != '\\')
#define PLAIN_ROW(b)                                                                                     \
    PLAIN(b), PLAIN(b + 1), PLAIN(b + 2), PLAIN(b + 3), PLAIN(b + 4), PLAIN(b + 5), PLAIN(b + 6),        \
        PLAIN(b + 7), PLAIN(b + 8), PLAIN(b + 9), PLAIN(b + 10), PLAIN(b + 11), PLAIN(b + 12),           \
        PLAIN(b + 13), PLAIN(b + 14), PLAIN(b + 15)
static const unsigned char plain_byte[256] = {
    PLAIN_ROW(0x00), PLAIN_ROW(0x10), PLAIN_ROW(0x20), PLAIN_ROW(0x30), PLAIN_ROW(0x40), PLAIN_ROW(0x50),
    PLAIN_ROW(0x60), PLAIN_ROW(0x70), PLAIN_ROW(0x80), PLAIN_ROW(0x90), PLAIN_ROW(0xA0), PLAIN_ROW(0xB0),
    PLAIN_ROW(0xC0), PLAIN_ROW(0xD0), PLAIN_ROW(0xE0), PLAIN_ROW(0xF0),
};

/* The JSON string body of s, cut at a character boundary when out of room
 * (one byte stays reserved for the closing quote). Control bytes become
 * \u00XX; malformed UTF-8 becomes U+FFFD so the line stays valid JSON. */
static void put_string_body(out_buf *o, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        /* Printable ASCII, nearly every byte of a line, is copied in runs:
         * byte-at-a-time escaping was a tenth of a read call's CPU. */
        const unsigned char *run = p;
        while (plain_byte[*p])
            p++;
        if (p > run) {
            size_t n = (size_t)(p - run), room = o->cap > o->len + 1 ? o->cap - o->len - 1 : 0;
            put_raw(o, (const char *)run, n < room ? n : room);
            if (n > room)
                return;
            continue;
        }
        char esc[8];
        const char *chunk = esc;
        size_t n, advance = 1;
        if (*p == '"' || *p == '\\') {
            n = 2, esc[0] = '\\', esc[1] = (char)*p;
        } else if (*p == '\n') {
            n = 2, esc[0] = '\\', esc[1] = 'n';
        } else if (*p < 0x20 || *p == 0x7F) {
            n = (size_t)snprintf(esc, sizeof esc, "\\u%04x", *p);
        } else if ((advance = utf8_char_len(p)) != 0) {
            n = advance, chunk = (const char *)p;
        } else {
            n = 6, chunk = "\\ufffd", advance = 1;
        }
        if (o->len + n + 1 > o->cap)
            break;
        put_raw(o, chunk, n);
        p += advance;
    }
}

/* One "key":"value" member, or nothing at all when even an empty value
 * would not fit, so a long line is shortened but never malformed. */
static void put_member_n(out_buf *o, const char *key, size_t klen, const char *value)
{
    if (!value)
        return;
    size_t need = (o->len ? 1 : 0) + klen + 5;
    if (o->len + need > o->cap)
        return;
    put_raw(o, o->len ? ",\"" : "\"", o->len ? 2 : 1);
    put_raw(o, key, klen);
    put_raw(o, "\":\"", 3);
    put_string_body(o, value);
    put_raw(o, "\"", 1);
}

/* Keys are literals (the "" makes anything else a compile error): their
 * length is known when compiled. */
#define put_member(o, key, value) put_member_n(o, "" key, sizeof("" key) - 1, value)

/* ,"duration_ms":N.NNN without snprintf's floating-point machinery. */
static size_t format_duration(char out[48], double ms)
{
    static const char key[] = ",\"duration_ms\":";
    unsigned long long us = ms > 0 && ms < 1e15 ? (unsigned long long)(ms * 1000.0 + 0.5) : 0;
    char digits[24];
    size_t n = 0, len = sizeof key - 1;
    for (unsigned long long whole = us / 1000; n == 0 || whole; whole /= 10)
        digits[n++] = (char)('0' + whole % 10);
    memcpy(out, key, len);
    while (n)
        out[len++] = digits[--n];
    unsigned frac = (unsigned)(us % 1000);
    out[len++] = '.';
    out[len++] = (char)('0' + frac / 100);
    out[len++] = (char)('0' + frac / 10 % 10);
    out[len++] = (char)('0' + frac % 10);
    return len;
}

size_t rt_log_format(char *buf, size_t cap, const char *time, rt_log_level level,
                     const char *service, const rt_log_fields *f, const char *msg)
{
    if (cap < 4) {
        if (cap)
            buf[0] = '\0';
        return 0;
    }
    out_buf o = {buf + 1, cap - 4, 0};
    buf[0] = '{';
    put_member(&o, "time", time);
    put_member(&o, "level", level_names[level]);
    put_member(&o, "service", service);
    if (f) {
        put_member(&o, "method", f->method);
        put_member(&o, "code", f->code);
        if (f->has_duration) {
            char num[48];
            size_t n = format_duration(num, f->duration_ms);
            if (o.len + n <= o.cap)
                put_raw(&o, num, n);
        }
        put_member(&o, "request_id", f->request_id);
        put_member(&o, "trace_id", f->trace_id);
        put_member(&o, "span_id", f->span_id);
        put_member(&o, "identity", f->identity);
        put_member(&o, "address", f->address);
    }
    put_member(&o, "msg", msg);
    size_t len = o.len + 1;
    buf[len++] = '}';
    buf[len++] = '\n';
    buf[len] = '\0';
    return len;
}

/* The current UTC time as text. gmtime_r takes glibc's time-zone lock,
 * which every logging thread contended for once per call; the text is now made
 * once per second per thread and only its milliseconds are patched. */
static void format_now(char out[RT_TIMEFMT_LEN + 1])
{
    static _Thread_local time_t t_second = -1;
    static _Thread_local char t_text[RT_TIMEFMT_LEN + 1];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec != t_second) {
        rt_timefmt_from_timespec(&now, t_text);
        t_second = now.tv_sec;
    }
    memcpy(out, t_text, sizeof t_text);
    int ms = (int)(now.tv_nsec / 1000000); /* "...SS.mmmZ" */
    out[RT_TIMEFMT_LEN - 4] = (char)('0' + ms / 100);
    out[RT_TIMEFMT_LEN - 3] = (char)('0' + ms / 10 % 10);
    out[RT_TIMEFMT_LEN - 2] = (char)('0' + ms % 10);
}

static void emit(rt_log_level level, const rt_log_fields *given, const char *fmt, va_list ap)
{
    if (!rt_log_enabled(level))
        return;
    rt_log_fields f = given ? *given : (rt_log_fields){0};
    if (!f.method)
        f.method = t_method;
    if (!f.request_id)
        f.request_id = t_request_id;
    if (!f.identity)
        f.identity = t_identity;
    if (!f.trace_id) {
        f.trace_id = t_trace_id;
        f.span_id = t_span_id;
    }
    char buf[RT_LOG_LINE_MAX];
    const char *msg = buf;
    if (strcmp(fmt, "%s") == 0) { /* every per-call line: nothing to format */
        msg = va_arg(ap, const char *);
        msg = msg ? msg : "(null)";
    } else {
        vsnprintf(buf, sizeof buf, fmt, ap);
    }
    char time[RT_TIMEFMT_LEN + 1];
    format_now(time);
    char line[RT_LOG_LINE_MAX];
    size_t len = rt_log_format(line, sizeof line, time, level, g_service, &f, msg);
    put_line(level, line, len);
}

void rt_log(rt_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, NULL, fmt, ap);
    va_end(ap);
}

void rt_log_with(rt_log_level level, const rt_log_fields *fields, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, fields, fmt, ap);
    va_end(ap);
}

void rt_log_withv(rt_log_level level, const rt_log_fields *fields, const char *fmt, va_list ap)
{
    emit(level, fields, fmt, ap);
}
