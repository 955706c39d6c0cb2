/* Flag and environment parsing (config.h). Each setting has a flag, an
 * environment variable (the replaced system's names where it had one) and a
 * default; --help prints exactly that table. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error_text.h"
#include "idempotency.h"

/* One numeric setting and its accepted range. */
typedef struct {
    const char *flag;
    const char *env;
    int min, max;
    int *target;
} number_setting;

/* One file path setting (the security ones). */
typedef struct {
    const char *flag;
    const char *env;
    char **target;
} path_setting;

void rt_config_peer_flag(const char *env_name, char *out, size_t size)
{
    size_t n = 0;
    if (size < 3) {
        if (size)
            out[0] = '\0';
        return;
    }
    out[n++] = '-';
    out[n++] = '-';
    for (const char *p = env_name; *p && n + 1 < size; p++)
        out[n++] = *p == '_' ? '-' : (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    out[n] = '\0';
}

bool rt_config_valid_address(const char *address)
{
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address)
        return false;
    /* An IPv6 host is bracketed ("[::1]:50051"); any other host has no colon. */
    if (address[0] == '[' ? colon[-1] != ']' || colon - address < 3
                          : memchr(address, ':', (size_t)(colon - address)) != NULL)
        return false;
    const char *port = colon + 1;
    if (!*port || strlen(port) > 5)
        return false;
    long value = 0;
    for (const char *p = port; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        value = value * 10 + (*p - '0');
    }
    return value >= 1 && value <= 65535;
}

void rt_config_peer_tls_env(const char *address_env, char *out, size_t size)
{
    size_t len = strlen(address_env);
    if (len > 4 && strcmp(address_env + len - 4, "_URL") == 0)
        len -= 4;
    snprintf(out, size, "%.*s_TLS_NAME", (int)len, address_env);
}

/* One session per core, at least 2: the writer (group commit) and one for
 * reads. A pipelined session keeps its PostgreSQL back-end busy on its
 * own; on 2 cores, 2 sessions served reads ~20% faster, with a lower p99,
 * than 4 (their back-ends only competed for the cores). */
int rt_config_default_db_sessions(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long n = cores > 2 ? cores : 2;
    return n > 64 ? 64 : (int)n;
}

int rt_config_default_max_message_bytes(const rt_service *svc)
{
    size_t largest = svc->largest_request_bytes;
    if (largest > RT_MAX_MESSAGE_BYTES_LIMIT)
        largest = RT_MAX_MESSAGE_BYTES_LIMIT;
    return largest > RT_DEFAULT_MAX_MESSAGE_BYTES ? (int)largest : RT_DEFAULT_MAX_MESSAGE_BYTES;
}

/* A dial target: "0.0.0.0" listens everywhere but is not an address. A
 * comma-separated list of replicas ("127.0.0.1:1,127.0.0.1:2") becomes the
 * gRPC core's static-address target "ipv4:a,b" (or "ipv6:" for bracketed
 * hosts), which peers.c balances round robin; a DNS name with several
 * records is balanced the same way without this. NULL for a list element
 * that is not host:port. */
static char *dial_address(const char *address)
{
    bool list = strchr(address, ',') != NULL;
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    if (!f)
        abort();
    if (list)
        fputs(address[0] == '[' ? "ipv6:" : "ipv4:", f);
    char *copy = strdup(address);
    if (!copy)
        abort();
    bool ok = true;
    char *save = NULL;
    int n = 0;
    for (char *one = strtok_r(copy, ",", &save); one; one = strtok_r(NULL, ",", &save), n++) {
        if (list && !rt_config_valid_address(one))
            ok = false;
        fprintf(f, "%s%s%s", n ? "," : "", strncmp(one, "0.0.0.0:", 8) == 0 ? "127.0.0.1:" : "",
                strncmp(one, "0.0.0.0:", 8) == 0 ? one + 8 : one);
    }
    free(copy);
    fclose(f);
    if (!ok || n == 0) {
        free(out);
        return NULL;
    }
    return out;
}

static bool parse_number(const number_setting *s, const char *text, const char *source,
                         char *error, size_t size)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || end == text || *end || value < s->min || value > s->max)
        return rt_error_text(error, size, "%s: '%s' is not a number in %d..%d", source, text, s->min, s->max);
    *s->target = (int)value;
    return true;
}

/* Replaces a string setting (strings are owned copies). */
static void set_string(char **slot, const char *value)
{
    free(*slot);
    *slot = strdup(value);
}

/* The value of "--flag VALUE" or "--flag=VALUE" at argv[*i], or NULL when
 * argv[*i] is another flag. Sets *missing when the value is absent. */
static const char *flag_value(const char *flag, int argc, char **argv, int *i, bool *missing)
{
    size_t n = strlen(flag);
    const char *arg = argv[*i];
    if (strncmp(arg, flag, n) != 0)
        return NULL;
    if (arg[n] == '=')
        return arg + n + 1;
    if (arg[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

static bool apply_env(rt_config *c, const rt_service *svc, const number_setting *numbers,
                      size_t n_numbers, const path_setting *paths, size_t n_paths, rt_env_lookup env,
                      char *error, size_t size)
{
    const char *v;
    for (size_t i = 0; i < n_paths; i++)
        if ((v = env(paths[i].env)) && *v)
            set_string(paths[i].target, v);
    for (size_t i = 0; i < svc->n_peers; i++) {
        char name[128];
        rt_config_peer_tls_env(svc->peers[i].address_env, name, sizeof name);
        if ((v = env(name)) && *v)
            set_string(&c->peer_tls_names[i], v);
    }
    if ((v = env(svc->self.address_env)) && *v)
        set_string(&c->listen, v);
    if ((v = env("DATABASE_URL")) && *v)
        set_string(&c->database_url, v);
    if ((v = env("METRICS_ADDR")) && *v)
        set_string(&c->metrics_listen, v);
    for (size_t i = 0; i < svc->n_peers; i++)
        if ((v = env(svc->peers[i].address_env)) && *v)
            set_string(&c->peer_addresses[i], v);
    for (size_t i = 0; i < n_numbers; i++)
        if ((v = env(numbers[i].env)) && *v && !parse_number(&numbers[i], v, numbers[i].env, error, size))
            return false;
    if ((v = env("LOG_LEVEL")) && *v && !rt_log_parse_level(v, &c->log_level))
        return rt_error_text(error, size, "LOG_LEVEL: '%s' is not one of debug, info, warn, error", v);
    return true;
}

/* Handles argv[*i]; false with error set when it is unknown or invalid. */
static bool apply_flag(rt_config *c, const rt_service *svc, const number_setting *numbers,
                       size_t n_numbers, const path_setting *paths, size_t n_paths, int argc,
                       char **argv, int *i, char *error, size_t size)
{
    bool missing = false;
    const char *v;
    if ((v = flag_value("--listen", argc, argv, i, &missing))) {
        set_string(&c->listen, v);
        return true;
    }
    if ((v = flag_value("--database-url", argc, argv, i, &missing))) {
        set_string(&c->database_url, v);
        return true;
    }
    if ((v = flag_value("--metrics-listen", argc, argv, i, &missing))) {
        set_string(&c->metrics_listen, v);
        return true;
    }
    if ((v = flag_value("--log-level", argc, argv, i, &missing))) {
        if (!rt_log_parse_level(v, &c->log_level))
            return rt_error_text(error, size, "--log-level: '%s' is not one of debug, info, warn, error", v);
        return true;
    }
    for (size_t k = 0; k < n_numbers && !missing; k++)
        if ((v = flag_value(numbers[k].flag, argc, argv, i, &missing)))
            return parse_number(&numbers[k], v, numbers[k].flag, error, size);
    for (size_t k = 0; k < n_paths && !missing; k++)
        if ((v = flag_value(paths[k].flag, argc, argv, i, &missing))) {
            set_string(paths[k].target, v);
            return true;
        }
    for (size_t k = 0; k < svc->n_peers && !missing; k++) {
        char flag[128], tls_env[128];
        rt_config_peer_flag(svc->peers[k].address_env, flag, sizeof flag);
        if ((v = flag_value(flag, argc, argv, i, &missing))) {
            set_string(&c->peer_addresses[k], v);
            return true;
        }
        rt_config_peer_tls_env(svc->peers[k].address_env, tls_env, sizeof tls_env);
        rt_config_peer_flag(tls_env, flag, sizeof flag);
        if ((v = flag_value(flag, argc, argv, i, &missing))) {
            set_string(&c->peer_tls_names[k], v);
            return true;
        }
    }
    if (missing)
        return rt_error_text(error, size, "%s needs a value", argv[*i]);
    return rt_error_text(error, size, "unknown argument '%s'", argv[*i]);
}

/* Certificate and key together, a CA only with them, every file readable:
 * a typo is found at start-up, not at the first handshake. */
static bool valid_security(const rt_config *c, const path_setting *paths, size_t n_paths,
                           char *error, size_t size)
{
    if (!c->tls_cert_file != !c->tls_key_file)
        return rt_error_text(error, size, "TLS_CERT_FILE and TLS_KEY_FILE go together: set both or neither");
    if (c->tls_ca_file && !c->tls_cert_file)
        return rt_error_text(error, size, "TLS_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE: mutual TLS "
                                 "presents the daemon's own certificate");
    for (size_t i = 0; i < n_paths; i++)
        if (*paths[i].target && access(*paths[i].target, R_OK) != 0)
            return rt_error_text(error, size, "%s: cannot read '%s': %s", paths[i].env, *paths[i].target,
                        strerror(errno));
    return true;
}

rt_config_outcome rt_config_parse(rt_config *c, const rt_service *svc, int argc, char **argv,
                                  rt_env_lookup env, char *error, size_t size)
{
    memset(c, 0, sizeof *c);
    c->listen = strdup(svc->self.default_address);
    c->metrics_listen = rt_config_default_metrics_address(svc);
    c->n_peers = svc->n_peers;
    c->peer_addresses = calloc(svc->n_peers ? svc->n_peers : 1, sizeof *c->peer_addresses);
    c->peer_tls_names = calloc(svc->n_peers ? svc->n_peers : 1, sizeof *c->peer_tls_names);
    for (size_t i = 0; i < svc->n_peers; i++)
        c->peer_addresses[i] = strdup(svc->peers[i].default_address);
    c->reload_seconds = RT_DEFAULT_RELOAD_SECONDS;
    c->db_sessions = rt_config_default_db_sessions();
    c->max_message_bytes = rt_config_default_max_message_bytes(svc);
    c->drain_seconds = RT_DEFAULT_DRAIN_SECONDS;
    c->idempotency_ttl_seconds = RT_DEFAULT_IDEMPOTENCY_TTL_SECONDS;
    c->max_calls = RT_DEFAULT_MAX_CALLS;
    c->max_queued_calls = RT_DEFAULT_MAX_QUEUED_CALLS;
    c->queue_wait_ms = RT_DEFAULT_QUEUE_WAIT_MS;
    c->max_concurrent_streams = RT_DEFAULT_MAX_CONCURRENT_STREAMS;
    c->memory_quota_mb = RT_DEFAULT_MEMORY_QUOTA_MB;
    c->stream_idle_seconds = RT_DEFAULT_STREAM_IDLE_SECONDS;
    c->db_lock_timeout_ms = RT_DEFAULT_DB_LOCK_TIMEOUT_MS;
    c->page_token_ttl_seconds = RT_DEFAULT_PAGE_TOKEN_TTL_SECONDS;
    c->log_level = RT_LOG_INFO;
    const number_setting numbers[] = {
        /* Deprecated names of --db-sessions, from when each session had a
         * worker thread; before it, so DB_SESSIONS wins over WORKERS. */
        {"--workers", "WORKERS", 1, 256, &c->db_sessions},
        {"--db-sessions", "DB_SESSIONS", 1, 256, &c->db_sessions},
        {"--max-message-bytes", "MAX_MESSAGE_BYTES", 1024, RT_MAX_MESSAGE_BYTES_LIMIT, &c->max_message_bytes},
        {"--drain-seconds", "DRAIN_SECONDS", 0, 3600, &c->drain_seconds},
        {"--idempotency-ttl", "IDEMPOTENCY_TTL", RT_IDEMPOTENCY_TTL_MIN_SECONDS, 366 * 86400,
         &c->idempotency_ttl_seconds},
        {"--max-calls", "MAX_CALLS", 1, 65536, &c->max_calls},
        {"--max-queued-calls", "MAX_QUEUED_CALLS", 0, 1 << 20, &c->max_queued_calls},
        {"--queue-wait-ms", "QUEUE_WAIT_MS", 0, 600000, &c->queue_wait_ms},
        {"--max-concurrent-streams", "MAX_CONCURRENT_STREAMS", 1, 1 << 20, &c->max_concurrent_streams},
        {"--memory-quota-mb", "MEMORY_QUOTA_MB", 16, 1 << 20, &c->memory_quota_mb},
        {"--stream-idle-seconds", "STREAM_IDLE_SECONDS", 1, 86400, &c->stream_idle_seconds},
        {"--tls-reload-seconds", "TLS_RELOAD_SECONDS", 1, 3600, &c->reload_seconds},
        {"--db-lock-timeout-ms", "DB_LOCK_TIMEOUT_MS", 0, 3600000, &c->db_lock_timeout_ms},
        {"--page-token-ttl", "PAGE_TOKEN_TTL", 60, 366 * 86400, &c->page_token_ttl_seconds},
    };
    const size_t n_numbers = sizeof numbers / sizeof numbers[0];
    const path_setting paths[] = {
        {"--tls-cert-file", "TLS_CERT_FILE", &c->tls_cert_file},
        {"--tls-key-file", "TLS_KEY_FILE", &c->tls_key_file},
        {"--tls-ca-file", "TLS_CA_FILE", &c->tls_ca_file},
        {"--authz-policy-file", "AUTHZ_POLICY_FILE", &c->authz_policy_file},
        {"--page-token-secret-file", "PAGE_TOKEN_SECRET_FILE", &c->page_token_secret_file},
    };
    const size_t n_paths = sizeof paths / sizeof paths[0];

    /* --help and --version win over any other problem on the line. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return RT_CONFIG_HELP;
        if (strcmp(argv[i], "--version") == 0)
            return RT_CONFIG_VERSION;
    }
    if (!apply_env(c, svc, numbers, n_numbers, paths, n_paths, env, error, size))
        return RT_CONFIG_ERROR;
    for (int i = 1; i < argc; i++)
        if (!apply_flag(c, svc, numbers, n_numbers, paths, n_paths, argc, argv, &i, error, size))
            return RT_CONFIG_ERROR;
    if (!valid_security(c, paths, n_paths, error, size))
        return RT_CONFIG_ERROR;

    if (!c->database_url || !*c->database_url) {
        rt_error_text(error, size, "no database: set DATABASE_URL or pass --database-url "
                          "(e.g. postgresql://user@127.0.0.1:5432/wallet)");
        return RT_CONFIG_ERROR;
    }
    if (!rt_config_valid_address(c->listen)) {
        rt_error_text(error, size, "listen address '%s' is not host:port with a port in 1..65535", c->listen);
        return RT_CONFIG_ERROR;
    }
    if (strcmp(c->metrics_listen, "0") != 0 && !rt_config_valid_address(c->metrics_listen)) {
        rt_error_text(error, size, "metrics address '%s' is not host:port (or 0 for none)", c->metrics_listen);
        return RT_CONFIG_ERROR;
    }
    for (size_t i = 0; i < svc->n_peers; i++) {
        if (!*c->peer_addresses[i]) {
            rt_error_text(error, size, "%s: empty address", svc->peers[i].address_env);
            return RT_CONFIG_ERROR;
        }
        char *dial = dial_address(c->peer_addresses[i]);
        if (!dial) {
            rt_error_text(error, size, "%s: '%s' is not a comma-separated list of host:port",
                 svc->peers[i].address_env, c->peer_addresses[i]);
            return RT_CONFIG_ERROR;
        }
        free(c->peer_addresses[i]);
        c->peer_addresses[i] = dial;
    }
    return RT_CONFIG_RUN;
}

void rt_config_free(rt_config *c)
{
    free(c->listen);
    free(c->metrics_listen);
    free(c->database_url);
    for (size_t i = 0; i < c->n_peers && c->peer_addresses; i++)
        free(c->peer_addresses[i]);
    free(c->peer_addresses);
    for (size_t i = 0; i < c->n_peers && c->peer_tls_names; i++)
        free(c->peer_tls_names[i]);
    free(c->peer_tls_names);
    free(c->tls_cert_file);
    free(c->tls_key_file);
    free(c->tls_ca_file);
    free(c->authz_policy_file);
    free(c->page_token_secret_file);
    memset(c, 0, sizeof *c);
}

void rt_config_usage(const rt_service *svc, FILE *out)
{
    char peer_default[128];
    fprintf(out,
            "Usage: %s [options]\n\n"
            "Serves %s over gRPC. Every option can also be set through the\n"
            "environment variable shown; a flag wins over the environment.\n\n"
            "  %-32s %-22s %s\n",
            svc->daemon_name, svc->self.service_name, "flag", "environment", "default");
    fprintf(out, "  %-32s %-22s %s\n", "--listen HOST:PORT", svc->self.address_env,
            svc->self.default_address);
    fprintf(out, "  %-32s %-22s %s\n", "--database-url URL", "DATABASE_URL", "(required)");
    char *metrics = rt_config_default_metrics_address(svc);
    fprintf(out, "  %-32s %-22s %s (GET /metrics; 0: none)\n", "--metrics-listen HOST:PORT",
            "METRICS_ADDR", metrics);
    free(metrics);
    for (size_t i = 0; i < svc->n_peers; i++) {
        char flag[128];
        rt_config_peer_flag(svc->peers[i].address_env, flag, sizeof flag);
        strncat(flag, " HOST:PORT", sizeof flag - strlen(flag) - 1);
        char *dial = dial_address(svc->peers[i].default_address);
        snprintf(peer_default, sizeof peer_default, "%s (%s)", dial ? dial : "?",
                 svc->peers[i].service_name);
        free(dial);
        fprintf(out, "  %-32s %-22s %s\n", flag, svc->peers[i].address_env, peer_default);
    }
    fprintf(out, "  %-32s %-22s %d (cores, at least 2; --workers, WORKERS: old names)\n",
            "--db-sessions N", "DB_SESSIONS", rt_config_default_db_sessions());
    fprintf(out, "  %-32s %-22s %d (at least the largest valid request)\n", "--max-message-bytes N",
            "MAX_MESSAGE_BYTES", rt_config_default_max_message_bytes(svc));
    fprintf(out, "  %-32s %-22s %d\n", "--drain-seconds N", "DRAIN_SECONDS", RT_DEFAULT_DRAIN_SECONDS);
    fprintf(out, "  %-32s %-22s %d (seconds an idempotency key is kept; at least %d)\n", "--idempotency-ttl N",
            "IDEMPOTENCY_TTL", RT_DEFAULT_IDEMPOTENCY_TTL_SECONDS, RT_IDEMPOTENCY_TTL_MIN_SECONDS);
    fprintf(out, "  %-32s %-22s %d (per class: callers, peer service)\n", "--max-calls N", "MAX_CALLS",
            RT_DEFAULT_MAX_CALLS);
    fprintf(out, "  %-32s %-22s %d (per class; more: RESOURCE_EXHAUSTED)\n", "--max-queued-calls N",
            "MAX_QUEUED_CALLS", RT_DEFAULT_MAX_QUEUED_CALLS);
    fprintf(out, "  %-32s %-22s %d (and at most half the deadline)\n", "--queue-wait-ms N", "QUEUE_WAIT_MS",
            RT_DEFAULT_QUEUE_WAIT_MS);
    fprintf(out, "  %-32s %-22s %d (per connection)\n", "--max-concurrent-streams N", "MAX_CONCURRENT_STREAMS",
            RT_DEFAULT_MAX_CONCURRENT_STREAMS);
    fprintf(out, "  %-32s %-22s %d (gRPC's buffers)\n", "--memory-quota-mb N", "MEMORY_QUOTA_MB",
            RT_DEFAULT_MEMORY_QUOTA_MB);
    fprintf(out, "  %-32s %-22s %d (reflection streams)\n", "--stream-idle-seconds N", "STREAM_IDLE_SECONDS",
            RT_DEFAULT_STREAM_IDLE_SECONDS);
    fprintf(out, "  %-32s %-22s %s\n", "--tls-cert-file PEM", "TLS_CERT_FILE", "(none: plaintext)");
    fprintf(out, "  %-32s %-22s %s\n", "--tls-key-file PEM", "TLS_KEY_FILE", "(none; with TLS_CERT_FILE)");
    fprintf(out, "  %-32s %-22s %s\n", "--tls-ca-file PEM", "TLS_CA_FILE",
            "(none; set: mutual TLS, peers verified by it)");
    for (size_t i = 0; i < svc->n_peers; i++) {
        char env[128], flag[160];
        rt_config_peer_tls_env(svc->peers[i].address_env, env, sizeof env);
        rt_config_peer_flag(env, flag, sizeof flag);
        strncat(flag, " NAME", sizeof flag - strlen(flag) - 1);
        fprintf(out, "  %-32s %-22s %s\n", flag, env, "(the peer's host; its certificate's name)");
    }
    fprintf(out, "  %-32s %-22s %s\n", "--authz-policy-file JSON", "AUTHZ_POLICY_FILE",
            "(none: every caller allowed; gRPC policy format)");
    fprintf(out, "  %-32s %-22s %d\n", "--tls-reload-seconds N", "TLS_RELOAD_SECONDS",
            RT_DEFAULT_RELOAD_SECONDS);
    fprintf(out, "  %-32s %-22s %s\n", "--page-token-secret-file FILE", "PAGE_TOKEN_SECRET_FILE",
            "(none: page tokens work on this process only)");
    fprintf(out, "  %-32s %-22s %d (seconds a page token is accepted)\n", "--page-token-ttl N", "PAGE_TOKEN_TTL",
            RT_DEFAULT_PAGE_TOKEN_TTL_SECONDS);
    fprintf(out, "  %-32s %-22s %d (ms a write waits for a row lock; 0: no limit)\n", "--db-lock-timeout-ms N",
            "DB_LOCK_TIMEOUT_MS", RT_DEFAULT_DB_LOCK_TIMEOUT_MS);
    fprintf(out, "  %-32s %-22s %s\n", "--log-level LEVEL", "LOG_LEVEL", "info (debug, info, warn, error)");
    fprintf(out, "  %-32s %-22s %s\n", "--help", "", "print this and exit");
    fprintf(out, "  %-32s %-22s %s\n", "--version", "", "print the version and exit");
}

char *rt_config_default_metrics_address(const rt_service *service)
{
    const char *colon = strrchr(service->self.default_address, ':');
    long offset = colon ? strtol(colon + 1, NULL, 10) - 50051 : 0;
    char *address = NULL;
    if (asprintf(&address, "0.0.0.0:%ld", 9464 + (offset >= 0 && offset < 100 ? offset : 0)) < 0)
        abort();
    return address;
}
