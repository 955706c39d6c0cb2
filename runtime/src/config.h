/* Daemon settings from flags and environment (flags win). A pure parser
 * over argv and an environment lookup, so every rule is unit-testable. */
#ifndef RT_CONFIG_H
#define RT_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "log.h"
#include "service.h"

/* The receive limit unless the contract's largest valid request
 * (rt_service.largest_request_bytes, docs/api.md) is larger: then that. */
#define RT_DEFAULT_MAX_MESSAGE_BYTES 4096
/* The most --max-message-bytes may be (and the generator allows a request). */
#define RT_MAX_MESSAGE_BYTES_LIMIT (64 * 1024 * 1024)
#define RT_DEFAULT_DRAIN_SECONDS 10
/* How long an idempotency key's outcome is kept (SPEC: at least 24h). */
#define RT_DEFAULT_IDEMPOTENCY_TTL_SECONDS 86400
/* How long a page token stays valid (PAGE_TOKEN_TTL). */
#define RT_DEFAULT_PAGE_TOKEN_TTL_SECONDS 86400
/* Admission control (executor.h): per class of call. */
#define RT_DEFAULT_MAX_CALLS 512
#define RT_DEFAULT_MAX_QUEUED_CALLS 512
#define RT_DEFAULT_QUEUE_WAIT_MS 1000
/* gRPC's side of memory (server.c). */
#define RT_DEFAULT_MAX_CONCURRENT_STREAMS 1000
#define RT_DEFAULT_MEMORY_QUOTA_MB 256
/* A reflection stream that sends nothing for this long is closed. */
#define RT_DEFAULT_STREAM_IDLE_SECONDS 60
#define RT_DEFAULT_RELOAD_SECONDS 5
/* How long a write may wait for a row lock another transaction holds:
 * every write queues behind it on the writer session, so this bounds how
 * long one locked row delays writes to every other row. */
#define RT_DEFAULT_DB_LOCK_TIMEOUT_MS 1000

typedef struct {
    char *listen;          /* host:port to serve on */
    char *metrics_listen;  /* host:port of GET /metrics, or "0" for none */
    char *database_url;    /* secret: never print, see rt_db_describe_url */
    char **peer_addresses; /* dial targets, parallel to service->peers */
    size_t n_peers;
    int db_sessions; /* database sessions (writer and readers); requests kept outstanding per method */
    int max_message_bytes;
    int drain_seconds;
    int idempotency_ttl_seconds; /* operations older than this are swept */
    int max_calls;        /* running at once, per class */
    int max_queued_calls; /* waiting for a fiber, per class */
    int queue_wait_ms;    /* longest wait for a fiber */
    int max_concurrent_streams; /* per connection */
    int memory_quota_mb;        /* gRPC's buffers */
    int stream_idle_seconds;
    int db_lock_timeout_ms; /* a write's whole lock wait (writer and lock waiter sessions); 0: none */
    rt_log_level log_level;
    /* Security (docs/security.md); NULL when unset. Certificate and key
     * come together; a CA file needs them and turns on mutual TLS. */
    char *tls_cert_file;
    char *tls_key_file;
    char *tls_ca_file;
    char *authz_policy_file;
    char *page_token_secret_file; /* NULL: a random key of this process (page_token_keys.h) */
    int page_token_ttl_seconds;
    char **peer_tls_names; /* name each peer's certificate must carry; NULL: its host */
    int reload_seconds;    /* certificates and policy are re-read this often */
} rt_config;

typedef enum {
    RT_CONFIG_RUN,     /* serve with the parsed config */
    RT_CONFIG_HELP,    /* --help: print usage, exit 0 */
    RT_CONFIG_VERSION, /* --version: print version, exit 0 */
    RT_CONFIG_ERROR,   /* message in error: print it and a hint, exit 2 */
} rt_config_outcome;

typedef const char *(*rt_env_lookup)(const char *name);

/* Fills *config (release with rt_config_free whatever the outcome). */
rt_config_outcome rt_config_parse(rt_config *config, const rt_service *service, int argc,
                                  char **argv, rt_env_lookup env, char *error, size_t error_size);
void rt_config_free(rt_config *config);
void rt_config_usage(const rt_service *service, FILE *out);
/* The flag of a peer: WALLET_SERVICE_URL -> "--wallet-service-url". */
void rt_config_peer_flag(const char *env_name, char *out, size_t size);
/* The variable naming a peer's expected certificate name:
 * WALLET_SERVICE_URL -> "WALLET_SERVICE_TLS_NAME". */
void rt_config_peer_tls_env(const char *address_env, char *out, size_t size);
/* host:port with a non-empty host and a port in 1..65535. */
bool rt_config_valid_address(const char *address);
/* Online CPUs, at least 2 and at most 64 (config.c says why). */
int rt_config_default_db_sessions(void);
/* RT_DEFAULT_MAX_MESSAGE_BYTES, or svc's largest valid request when that
 * is larger, so every valid request can be received. */
int rt_config_default_max_message_bytes(const rt_service *svc);
/* The default metrics address (METRICS_LISTEN), malloc'd: 0.0.0.0, port 9464
 * (Prometheus' customary exporter port) plus the daemon's default gRPC port
 * minus 50051, so user-service gets 9464 and wallet-service 9465. */
char *rt_config_default_metrics_address(const rt_service *service);

#endif
