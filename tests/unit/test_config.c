/* Flag and environment parsing: defaults, environment, flags winning over
 * the environment, peer flag naming and dialing defaults, and every way a
 * command line can be wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

static const rt_endpoint peers[] = {
    {"wallet.WalletService", "WALLET_SERVICE_URL", "0.0.0.0:50052"},
};
static const rt_service svc = {
    .daemon_name = "user-service",
    .self = {"user.UserService", "USER_SERVICE_URL", "0.0.0.0:50051"},
    .peers = peers,
    .n_peers = 1,
};

/* The environment a test sets up: NULL-terminated name/value pairs. */
static const char *const *g_env;

static const char *lookup(const char *name)
{
    for (const char *const *p = g_env; p && *p; p += 2)
        if (strcmp(p[0], name) == 0)
            return p[1];
    return NULL;
}

static rt_config_outcome parse(rt_config *c, const char *const *env, char *error, int argc, ...)
{
    char *argv[32] = {"user-service"};
    va_list ap;
    va_start(ap, argc);
    for (int i = 1; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    g_env = env;
    error[0] = '\0';
    return rt_config_parse(c, &svc, argc, argv, lookup, error, 256);
}

static const char *const with_db[] = {"DATABASE_URL", "postgresql://u:secret@h/db", NULL};

static void defaults(void **state)
{
    (void)state;
    rt_config c;
    char error[256];
    assert_int_equal(parse(&c, with_db, error, 1), RT_CONFIG_RUN);
    assert_string_equal(c.listen, "0.0.0.0:50051");
    assert_string_equal(c.database_url, "postgresql://u:secret@h/db");
    assert_string_equal(c.peer_addresses[0], "127.0.0.1:50052");
    assert_true(c.db_sessions >= 2);
    assert_int_equal(c.db_sessions, rt_config_default_db_sessions());
    assert_int_equal(c.max_message_bytes, 4096);
    assert_int_equal(c.max_calls, 512);
    assert_int_equal(c.max_queued_calls, 512);
    assert_int_equal(c.drain_seconds, 10);
    assert_int_equal(c.log_level, RT_LOG_INFO);
    rt_config_free(&c);
}

/* The default receive limit fits the contract's largest valid request. */
static void max_message_bytes_fits_the_largest_valid_request(void **state)
{
    (void)state;
    rt_service big = svc;
    big.largest_request_bytes = 7600; /* 200 UUIDs */
    assert_int_equal(rt_config_default_max_message_bytes(&big), 7600);
    big.largest_request_bytes = 591;
    assert_int_equal(rt_config_default_max_message_bytes(&big), 4096);
    big.largest_request_bytes = 0; /* unbounded: the default stays */
    assert_int_equal(rt_config_default_max_message_bytes(&big), 4096);
    big.largest_request_bytes = (size_t)1 << 40;
    assert_int_equal(rt_config_default_max_message_bytes(&big), RT_MAX_MESSAGE_BYTES_LIMIT);
    big.largest_request_bytes = 7600;
    rt_config c;
    char error[256];
    g_env = with_db;
    char *argv[] = {"user-service"};
    assert_int_equal(rt_config_parse(&c, &big, 1, argv, lookup, error, sizeof error), RT_CONFIG_RUN);
    assert_int_equal(c.max_message_bytes, 7600);
    rt_config_free(&c);
}

static void environment(void **state)
{
    (void)state;
    const char *const env[] = {"DATABASE_URL", "postgresql://x/y", "USER_SERVICE_URL", "127.0.0.1:6000",
                               "WALLET_SERVICE_URL", "wallet:7000", "DB_SESSIONS", "7",
                               "LOG_LEVEL", "debug", "MAX_MESSAGE_BYTES", "2048", "DRAIN_SECONDS", "3",
                               "MAX_CALLS", "64", "MAX_QUEUED_CALLS", "0", "QUEUE_WAIT_MS", "250",
                               "MAX_CONCURRENT_STREAMS", "100", "MEMORY_QUOTA_MB", "32", "STREAM_IDLE_SECONDS", "5",
                               NULL};
    rt_config c;
    char error[256];
    assert_int_equal(parse(&c, env, error, 1), RT_CONFIG_RUN);
    assert_string_equal(c.listen, "127.0.0.1:6000");
    assert_string_equal(c.peer_addresses[0], "wallet:7000");
    assert_int_equal(c.db_sessions, 7);
    assert_int_equal(c.log_level, RT_LOG_DEBUG);
    assert_int_equal(c.max_message_bytes, 2048);
    assert_int_equal(c.drain_seconds, 3);
    assert_int_equal(c.max_calls, 64);
    assert_int_equal(c.max_queued_calls, 0);
    assert_int_equal(c.queue_wait_ms, 250);
    assert_int_equal(c.max_concurrent_streams, 100);
    assert_int_equal(c.memory_quota_mb, 32);
    assert_int_equal(c.stream_idle_seconds, 5);
    rt_config_free(&c);
}

static void flags_override_environment(void **state)
{
    (void)state;
    const char *const env[] = {"DATABASE_URL", "postgresql://env/db", "USER_SERVICE_URL", "127.0.0.1:6000",
                               "WALLET_SERVICE_URL", "0.0.0.0:7000", "DB_SESSIONS", "7", NULL};
    rt_config c;
    char error[256];
    assert_int_equal(parse(&c, env, error, 9, "--listen", "[::]:6001", "--database-url=postgresql://flag/db",
                           "--wallet-service-url", "10.0.0.2:7001", "--db-sessions=2", "--log-level", "ERROR"),
                     RT_CONFIG_RUN);
    assert_string_equal(c.listen, "[::]:6001");
    assert_string_equal(c.database_url, "postgresql://flag/db");
    assert_string_equal(c.peer_addresses[0], "10.0.0.2:7001");
    assert_int_equal(c.db_sessions, 2);
    assert_int_equal(c.log_level, RT_LOG_ERROR);
    rt_config_free(&c);

    /* 0.0.0.0 from the environment is dialed as loopback too */
    assert_int_equal(parse(&c, env, error, 1), RT_CONFIG_RUN);
    assert_string_equal(c.peer_addresses[0], "127.0.0.1:7000");
    rt_config_free(&c);
}

/* Several replicas of a peer: a comma list becomes one static-address
 * target that the peer channel balances round robin (peers.c). */
static void peer_replica_lists(void **state)
{
    (void)state;
    rt_config c;
    char error[256];
    assert_int_equal(parse(&c, NULL, error, 4, "--database-url=postgresql://x/db", "--wallet-service-url",
                           "0.0.0.0:7000,127.0.0.1:7001"),
                     RT_CONFIG_RUN);
    assert_string_equal(c.peer_addresses[0], "ipv4:127.0.0.1:7000,127.0.0.1:7001");
    rt_config_free(&c);
    assert_int_equal(parse(&c, NULL, error, 4, "--database-url=postgresql://x/db", "--wallet-service-url",
                           "[::1]:7000,[::1]:7001"),
                     RT_CONFIG_RUN);
    assert_string_equal(c.peer_addresses[0], "ipv6:[::1]:7000,[::1]:7001");
    rt_config_free(&c);
    assert_int_equal(parse(&c, NULL, error, 4, "--database-url=postgresql://x/db", "--wallet-service-url",
                           "127.0.0.1:7000,nope"),
                     RT_CONFIG_ERROR);
    assert_non_null(strstr(error, "comma-separated"));
    rt_config_free(&c);
}

static void help_and_version_win(void **state)
{
    (void)state;
    rt_config c;
    char error[256];
    assert_int_equal(parse(&c, NULL, error, 3, "--bogus", "--help"), RT_CONFIG_HELP);
    rt_config_free(&c);
    assert_int_equal(parse(&c, NULL, error, 2, "-h"), RT_CONFIG_HELP);
    rt_config_free(&c);
    assert_int_equal(parse(&c, NULL, error, 2, "--version"), RT_CONFIG_VERSION);
    rt_config_free(&c);
}

static void expect_error(const char *const *env, const char *needle, int argc, const char *a1,
                         const char *a2)
{
    rt_config c;
    char error[256];
    assert_int_equal(parse(&c, env, error, argc, a1, a2), RT_CONFIG_ERROR);
    if (!strstr(error, needle))
        fail_msg("error '%s' does not mention '%s'", error, needle);
    rt_config_free(&c);
}

/* --workers and WORKERS, the old names of --db-sessions and DB_SESSIONS,
 * still set it; the new environment name wins over the old, and any flag
 * over the environment. --help names both. */
static void old_session_names_still_work(void **state)
{
    (void)state;
    rt_config c;
    char error[256];
    const char *const old_env[] = {"DATABASE_URL", "postgresql://x/y", "WORKERS", "5", NULL};
    assert_int_equal(parse(&c, old_env, error, 1), RT_CONFIG_RUN);
    assert_int_equal(c.db_sessions, 5);
    rt_config_free(&c);
    assert_int_equal(parse(&c, with_db, error, 3, "--workers", "3"), RT_CONFIG_RUN);
    assert_int_equal(c.db_sessions, 3);
    rt_config_free(&c);
    const char *const both_env[] = {"DATABASE_URL", "postgresql://x/y", "DB_SESSIONS", "6", "WORKERS", "5", NULL};
    assert_int_equal(parse(&c, both_env, error, 1), RT_CONFIG_RUN);
    assert_int_equal(c.db_sessions, 6);
    rt_config_free(&c);
    assert_int_equal(parse(&c, both_env, error, 2, "--workers=4"), RT_CONFIG_RUN);
    assert_int_equal(c.db_sessions, 4);
    rt_config_free(&c);

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    rt_config_usage(&svc, out);
    fclose(out);
    assert_non_null(strstr(text, "--db-sessions N"));
    assert_non_null(strstr(text, "DB_SESSIONS"));
    assert_non_null(strstr(text, "--workers, WORKERS: old names"));
    free(text);
}

static void errors(void **state)
{
    (void)state;
    expect_error(NULL, "DATABASE_URL", 1, NULL, NULL);
    expect_error(with_db, "unknown argument '--bogus'", 2, "--bogus", NULL);
    expect_error(with_db, "unknown argument 'extra'", 2, "extra", NULL);
    expect_error(with_db, "--listen needs a value", 2, "--listen", NULL);
    expect_error(with_db, "--db-sessions", 3, "--db-sessions", "many");
    expect_error(with_db, "--db-sessions", 3, "--db-sessions", "0");
    expect_error(with_db, "--workers", 3, "--workers", "12x");
    expect_error(with_db, "--max-message-bytes", 2, "--max-message-bytes=10", NULL);
    expect_error(with_db, "--log-level", 3, "--log-level", "loud");
    const char *const bad_env[] = {"DATABASE_URL", "x", "DB_SESSIONS", "-3", NULL};
    expect_error(bad_env, "DB_SESSIONS", 1, NULL, NULL);
    const char *const bad_old_env[] = {"DATABASE_URL", "x", "WORKERS", "-3", NULL};
    expect_error(bad_old_env, "WORKERS", 1, NULL, NULL);
    expect_error(with_db, "listen address", 3, "--listen", "localhost");
    expect_error(with_db, "listen address", 3, "--listen", "localhost:0");
    expect_error(with_db, "listen address", 3, "--listen", "localhost:65536");
    expect_error(with_db, "listen address", 3, "--listen", ":50051");
    expect_error(with_db, "listen address", 3, "--listen", "host:50a");
    expect_error(with_db, "WALLET_SERVICE_URL", 2, "--wallet-service-url=", NULL);
}

/* IDEMPOTENCY_TTL has a floor of one hour (idempotency.h): a write whose
 * connection was lost can apply for RT_WRITE_APPLY_SECONDS after it started,
 * so the fence or operation row that stands for it meanwhile must not be
 * swept sooner (issue 19, defect 4: it was 1 s). */
static void idempotency_ttl_floor(void **state)
{
    (void)state;
    expect_error(with_db, "--idempotency-ttl", 2, "--idempotency-ttl=1", NULL);
    expect_error(with_db, "--idempotency-ttl", 2, "--idempotency-ttl=3599", NULL);
    const char *const short_ttl[] = {"DATABASE_URL", "x", "IDEMPOTENCY_TTL", "60", NULL};
    expect_error(short_ttl, "IDEMPOTENCY_TTL", 1, NULL, NULL);
    rt_config c;
    char error[256];
    assert_int_equal(parse(&c, with_db, error, 2, "--idempotency-ttl=3600"), RT_CONFIG_RUN);
    assert_int_equal(c.idempotency_ttl_seconds, 3600);
    rt_config_free(&c);
}

static void address_and_peer_flag_helpers(void **state)
{
    (void)state;
    assert_true(rt_config_valid_address("0.0.0.0:50051"));
    assert_true(rt_config_valid_address("localhost:1"));
    assert_true(rt_config_valid_address("[::1]:65535"));
    assert_false(rt_config_valid_address("[::1:80"));
    assert_false(rt_config_valid_address("::1"));
    char flag[64];
    rt_config_peer_flag("WALLET_SERVICE_URL", flag, sizeof flag);
    assert_string_equal(flag, "--wallet-service-url");
    rt_config_peer_flag("USER_SERVICE_URL", flag, sizeof flag);
    assert_string_equal(flag, "--user-service-url");
    rt_config_peer_flag("LONG_NAME", flag, 6);
    assert_string_equal(flag, "--lon");
}

/* TLS files from environment or flags, the peer's TLS name, the reload
 * interval, and the combinations refused (/dev/null stands for a readable file). */
static void security_settings(void **state)
{
    (void)state;
    rt_config c;
    char error[256];
    assert_int_equal(parse(&c, with_db, error, 1), RT_CONFIG_RUN);
    assert_null(c.tls_cert_file);
    assert_null(c.tls_ca_file);
    assert_null(c.authz_policy_file);
    assert_null(c.peer_tls_names[0]);
    assert_null(c.page_token_secret_file);
    assert_int_equal(c.page_token_ttl_seconds, 86400);
    assert_int_equal(c.reload_seconds, RT_DEFAULT_RELOAD_SECONDS);
    rt_config_free(&c);

    const char *const env[] = {"DATABASE_URL", "x", "TLS_CERT_FILE", "/dev/null", "TLS_KEY_FILE", "/dev/null",
                               "TLS_CA_FILE", "/dev/null", "AUTHZ_POLICY_FILE", "/dev/null",
                               "WALLET_SERVICE_TLS_NAME", "wallet-service", "TLS_RELOAD_SECONDS", "2", NULL};
    assert_int_equal(parse(&c, env, error, 1), RT_CONFIG_RUN);
    assert_string_equal(c.tls_cert_file, "/dev/null");
    assert_string_equal(c.tls_ca_file, "/dev/null");
    assert_string_equal(c.authz_policy_file, "/dev/null");
    assert_string_equal(c.peer_tls_names[0], "wallet-service");
    assert_int_equal(c.reload_seconds, 2);
    rt_config_free(&c);
    assert_int_equal(parse(&c, env, error, 3, "--wallet-service-tls-name=w.internal", "--tls-reload-seconds=9"),
                     RT_CONFIG_RUN);
    assert_string_equal(c.peer_tls_names[0], "w.internal");
    assert_int_equal(c.reload_seconds, 9);
    rt_config_free(&c);
    const char *const tokens[] = {"DATABASE_URL", "x", "PAGE_TOKEN_SECRET_FILE", "/dev/null", "PAGE_TOKEN_TTL", "600", NULL};
    assert_int_equal(parse(&c, tokens, error, 1), RT_CONFIG_RUN);
    assert_string_equal(c.page_token_secret_file, "/dev/null");
    assert_int_equal(c.page_token_ttl_seconds, 600);
    rt_config_free(&c);
    expect_error(with_db, "PAGE_TOKEN_SECRET_FILE: cannot read", 2, "--page-token-secret-file=/nonexistent/s", NULL);
    expect_error(with_db, "--page-token-ttl", 2, "--page-token-ttl=59", NULL);

    expect_error(with_db, "go together", 3, "--tls-cert-file", "/dev/null");
    expect_error(with_db, "go together", 2, "--tls-key-file=/dev/null", NULL);
    expect_error(with_db, "TLS_CA_FILE needs", 2, "--tls-ca-file=/dev/null", NULL);
    expect_error(with_db, "AUTHZ_POLICY_FILE: cannot read '/nonexistent/p.json'", 2,
                 "--authz-policy-file=/nonexistent/p.json", NULL);
    expect_error(with_db, "--tls-reload-seconds", 2, "--tls-reload-seconds=0", NULL);
    char name[64];
    rt_config_peer_tls_env("WALLET_SERVICE_URL", name, sizeof name);
    assert_string_equal(name, "WALLET_SERVICE_TLS_NAME");
    rt_config_peer_tls_env("PAYMENTS", name, sizeof name);
    assert_string_equal(name, "PAYMENTS_TLS_NAME");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(max_message_bytes_fits_the_largest_valid_request),
        cmocka_unit_test(security_settings),
        cmocka_unit_test(environment),
        cmocka_unit_test(flags_override_environment),
        cmocka_unit_test(peer_replica_lists),
        cmocka_unit_test(help_and_version_win),
        cmocka_unit_test(old_session_names_still_work),
        cmocka_unit_test(errors),
        cmocka_unit_test(idempotency_ttl_floor),
        cmocka_unit_test(address_and_peer_flag_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
