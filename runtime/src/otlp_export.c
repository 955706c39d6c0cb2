/* The OTLP/HTTP JSON exporter (otlp_export.h). One thread: it sleeps until
 * a batch is full or the schedule delay passes, takes up to a batch out of
 * the ring under the lock, then, without it, renders the JSON and POSTs it
 * with HTTP/1.1 (one connection per export, Connection: close), every step
 * bounded by the timeout. A failed export is dropped, counted and logged
 * once per change, never retried: the ring must keep room for new spans. */
#include "otlp_export.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "hex.h"
#include "log.h"

RT_COUNTER(spans_exported, "wallet_trace_spans_exported_total", "", "Spans the OTLP collector accepted.")
RT_COUNTER(spans_dropped, "wallet_trace_spans_dropped_total", "",
           "Spans dropped: the export queue was full (a slow or absent collector) or their export failed.")
RT_COUNTER(export_failures, "wallet_trace_export_failures_total", "", "OTLP exports that failed.")

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool running, stop;
    rt_span *ring;
    size_t cap, head, count; /* ring[head] is the oldest */
    rt_otlp_config config;
    char host[256], port[16], path[512];
    bool failing; /* the last export failed: logged once until one succeeds */
    int stop_fd;  /* readable once stopping: an export in progress gets a second more at most */
    atomic_llong stop_deadline_ms; /* 0 until stopping */
} g = {.stop_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

bool rt_otlp_enqueue(const rt_span *s)
{
    pthread_mutex_lock(&g.lock);
    bool room = g.running && g.count < g.cap;
    bool full_batch = false;
    if (room) {
        g.ring[(g.head + g.count) % g.cap] = *s;
        g.count++;
        full_batch = g.count == g.config.batch_size;
    }
    pthread_mutex_unlock(&g.lock);
    if (!room)
        rt_counter_add(&spans_dropped, 1);
    else if (full_batch) /* only then: a signal per span would be a system call per span */
        pthread_cond_signal(&g.wake);
    return room;
}

static const char *kind_of(rt_span_kind k)
{
    return k == RT_SPAN_SERVER ? "2" : "3"; /* SPAN_KIND_SERVER, SPAN_KIND_CLIENT (peer calls, statements) */
}

/* OpenTelemetry's gRPC conventions: a server span is an error for the
 * codes that mean the server failed; a client (and statement) span for any
 * code but OK. */
static bool is_error(const rt_span *s)
{
    if (s->kind != RT_SPAN_SERVER)
        return s->code != GRPC_STATUS_OK;
    switch (s->code) {
    case GRPC_STATUS_UNKNOWN:
    case GRPC_STATUS_DEADLINE_EXCEEDED:
    case GRPC_STATUS_UNIMPLEMENTED:
    case GRPC_STATUS_INTERNAL:
    case GRPC_STATUS_UNAVAILABLE:
    case GRPC_STATUS_DATA_LOSS: return true;
    default: return false;
    }
}

static void put_attribute(FILE *out, bool first, const char *key, const char *value)
{
    fprintf(out, "%s{\"key\":\"%s\",\"value\":{\"stringValue\":\"%s\"}}", first ? "" : ",", key, value);
}

/* Span names and attribute values are generated identifiers (method paths,
 * statement names) and configuration (service name, version): JSON-safe
 * except for a service name an operator chose, which is escaped. */
static void put_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(out, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(out, "\\u%04x", *s);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

static void put_span(FILE *out, const rt_span *s)
{
    char trace[33], span[17], parent[17];
    rt_hex(s->trace_id, 16, trace);
    rt_hex(s->span_id, 8, span);
    static const uint8_t zero[8];
    bool root = memcmp(s->parent_id, zero, 8) == 0;
    rt_hex(s->parent_id, 8, parent);
    const char *name = s->name[0] == '/' ? s->name + 1 : s->name; /* "user.UserService/CreateUser" */
    fprintf(out, "{\"traceId\":\"%s\",\"spanId\":\"%s\",\"parentSpanId\":\"%s\",\"name\":", trace, span,
            root ? "" : parent);
    put_json_string(out, name);
    fprintf(out, ",\"kind\":%s,\"startTimeUnixNano\":\"%lld\",\"endTimeUnixNano\":\"%lld\",\"attributes\":[",
            kind_of(s->kind), (long long)s->start_ns, (long long)s->end_ns);
    if (s->kind == RT_SPAN_DB) {
        put_attribute(out, true, "db.system", "postgresql");
        put_attribute(out, false, "db.operation.name", name);
    } else {
        const char *slash = strchr(name, '/');
        int service_len = slash ? (int)(slash - name) : (int)strlen(name);
        fprintf(out, "{\"key\":\"rpc.system\",\"value\":{\"stringValue\":\"grpc\"}},"
                     "{\"key\":\"rpc.service\",\"value\":{\"stringValue\":\"%.*s\"}},",
                service_len, name);
        put_attribute(out, true, "rpc.method", slash ? slash + 1 : name);
        fprintf(out, ",{\"key\":\"rpc.grpc.status_code\",\"value\":{\"intValue\":\"%d\"}}", (int)s->code);
    }
    fprintf(out, "],\"status\":{\"code\":%d}}", is_error(s) ? 2 : 0);
}

char *rt_otlp_json(const rt_span *spans, size_t n, const char *service_name, const char *version, size_t *len)
{
    char *text = NULL;
    FILE *out = open_memstream(&text, len);
    if (!out)
        return NULL;
    fputs("{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":",
          out);
    put_json_string(out, service_name);
    fputs("}},{\"key\":\"service.version\",\"value\":{\"stringValue\":", out);
    put_json_string(out, version);
    fputs("}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"wallet-platform\",\"version\":", out);
    put_json_string(out, version);
    fputs("},\"spans\":[", out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', out);
        put_span(out, &spans[i]);
    }
    fputs("]}]}]}", out);
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the absolute deadline, or a second after
 * the daemon began to stop; false when that passed. */
static bool wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t stop = atomic_load(&g.stop_deadline_ms);
        int64_t left = (stop && stop < deadline ? stop : deadline) - now_ms();
        if (left <= 0)
            return false;
        struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = stop ? -1 : g.stop_fd, .events = POLLIN}};
        int n = poll(p, 2, (int)left);
        if (n > 0 && p[0].revents)
            return true;
        if (n < 0 && errno != EINTR)
            return false;
    }
}

static int connect_to(int64_t deadline)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(g.host, g.port, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        int err = 0;
        socklen_t len = sizeof err;
        if (errno != EINPROGRESS || !wait_fd(fd, POLLOUT, deadline) ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static bool send_all(int fd, const char *data, size_t len, int64_t deadline)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return false;
        } else if (!wait_fd(fd, POLLOUT, deadline)) {
            return false;
        }
    }
    return true;
}

/* POSTs body; the HTTP status (0: no answer within timeout_ms). */
static int post(const char *body, size_t len, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    int fd = connect_to(deadline);
    if (fd < 0)
        return 0;
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     g.path, g.host, g.port, len);
    int status = 0;
    if (n > 0 && (size_t)n < sizeof head && send_all(fd, head, (size_t)n, deadline) &&
        send_all(fd, body, len, deadline)) {
        char answer[64] = {0};
        size_t got = 0;
        while (got < 12 && wait_fd(fd, POLLIN, deadline)) {
            ssize_t r = recv(fd, answer + got, sizeof answer - 1 - got, 0);
            if (r <= 0 && !(r < 0 && (errno == EAGAIN || errno == EINTR)))
                break;
            if (r > 0)
                got += (size_t)r;
        }
        if (got >= 12 && strncmp(answer, "HTTP/1.", 7) == 0)
            status = atoi(answer + 9);
    }
    close(fd);
    return status;
}

static void export_batch(rt_span *batch, size_t n, int timeout_ms)
{
    size_t len = 0;
    char *body = rt_otlp_json(batch, n, g.config.service_name, g.config.version, &len);
    int status = body ? post(body, len, timeout_ms) : 0;
    free(body);
    bool ok = status >= 200 && status < 300;
    if (ok) {
        rt_counter_add(&spans_exported, n);
        if (g.failing)
            rt_log(RT_LOG_INFO, "OTLP export to %s works again", g.config.url);
    } else {
        rt_counter_add(&export_failures, 1);
        rt_counter_add(&spans_dropped, n);
        if (!g.failing)
            rt_log(RT_LOG_WARN, "OTLP export to %s failed (%s): spans are dropped until it works", g.config.url,
                   status ? "HTTP error" : "no answer in time");
    }
    g.failing = !ok;
}

/* Takes up to a batch out of the ring (under the lock). */
static size_t take(rt_span *batch)
{
    size_t n = g.count < g.config.batch_size ? g.count : g.config.batch_size;
    for (size_t i = 0; i < n; i++)
        batch[i] = g.ring[(g.head + i) % g.cap];
    g.head = (g.head + n) % g.cap;
    g.count -= n;
    return n;
}

static void *exporter_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "otlp-export");
    rt_span *batch = calloc(g.config.batch_size, sizeof *batch);
    if (!batch)
        abort();
    pthread_mutex_lock(&g.lock);
    for (;;) {
        if (!g.stop && g.count < g.config.batch_size) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += g.config.delay_ms / 1000;
            until.tv_nsec += (long)(g.config.delay_ms % 1000) * 1000000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&g.wake, &g.lock, &until);
        }
        bool stopping = g.stop;
        int timeout_ms = g.config.timeout_ms;
        size_t n = take(batch);
        pthread_mutex_unlock(&g.lock);
        if (n)
            export_batch(batch, n, timeout_ms);
        pthread_mutex_lock(&g.lock);
        if (stopping)
            break;
    }
    pthread_mutex_unlock(&g.lock);
    free(batch);
    return NULL;
}

/* http://host[:port][/path] into g.host, g.port, g.path. */
static bool parse_url(const char *url)
{
    if (strncmp(url, "http://", 7) != 0)
        return false;
    const char *host = url + 7, *end = host + strcspn(host, "/");
    const char *colon = NULL;
    if (*host == '[') { /* [v6]:port */
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (!close)
            return false;
        snprintf(g.host, sizeof g.host, "%.*s", (int)(close - host - 1), host + 1);
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = memchr(host, ':', (size_t)(end - host));
        snprintf(g.host, sizeof g.host, "%.*s", (int)((colon ? colon : end) - host), host);
    }
    snprintf(g.port, sizeof g.port, "%.*s", colon ? (int)(end - colon - 1) : 2, colon ? colon + 1 : "80");
    snprintf(g.path, sizeof g.path, "%s", *end ? end : "/");
    return g.host[0] != '\0';
}

bool rt_otlp_start(const rt_otlp_config *config)
{
    if (!parse_url(config->url)) {
        rt_log(RT_LOG_ERROR, "OTLP endpoint %s: only http://host:port URLs are supported; spans are not exported",
               config->url);
        return false;
    }
    g.config = *config;
    g.cap = config->queue_size;
    g.ring = calloc(g.cap, sizeof *g.ring);
    if (!g.ring)
        abort();
    g.head = g.count = 0;
    g.stop = g.failing = false;
    atomic_store(&g.stop_deadline_ms, 0);
    g.stop_fd = eventfd(0, EFD_CLOEXEC);
    if (g.stop_fd < 0)
        abort();
    g.running = true;
    if (pthread_create(&g.thread, NULL, exporter_main, NULL) != 0)
        abort();
    rt_log(RT_LOG_INFO, "exporting spans to %s (OTLP/HTTP JSON, queue %zu, batch %zu, every %d ms)", config->url,
           g.cap, config->batch_size, config->delay_ms);
    return true;
}

void rt_otlp_stop(void)
{
    if (!g.running)
        return;
    pthread_mutex_lock(&g.lock);
    g.stop = true;
    g.running = false; /* nothing more is queued */
    pthread_cond_signal(&g.wake);
    pthread_mutex_unlock(&g.lock);
    /* The export in progress, and the last one, may not hold up the exit. */
    atomic_store(&g.stop_deadline_ms, now_ms() + 1000);
    uint64_t one = 1;
    ssize_t ignored = write(g.stop_fd, &one, sizeof one);
    (void)ignored; /* an eventfd write of 1 cannot fail here */
    pthread_join(g.thread, NULL);
    close(g.stop_fd);
    g.stop_fd = -1;
    free(g.ring);
    g.ring = NULL;
}
