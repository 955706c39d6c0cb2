/* The metrics registry and its exposition text: every method x code present
 * at 0, counters and histograms after calls, peer-call rows, unknown methods
 * left out, database gauges; and the --metrics-listen / METRICS_ADDR setting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "metrics.h"
#include "metrics_http.h"

static const rt_method methods[] = {
    {.path = "/user.UserService/CreateUser", .name = "CreateUser"},
    {.path = "/user.UserService/GetUserById", .name = "GetUserById"},
};
static const rt_endpoint peers[] = {
    {"wallet.WalletService", "WALLET_SERVICE_URL", "0.0.0.0:50052"},
};
static const rt_service svc = {
    .daemon_name = "user-service",
    .self = {"user.UserService", "USER_SERVICE_URL", "0.0.0.0:50051"},
    .methods = methods,
    .n_methods = 2,
    .peers = peers,
    .n_peers = 1,
};

#define GET_USER "grpc_type=\"unary\",grpc_service=\"user.UserService\",grpc_method=\"GetUserById\""
#define CREATE_WALLET \
    "grpc_type=\"unary\",grpc_service=\"wallet.WalletService\",grpc_method=\"CreateWallet\""

static char *render(void)
{
    size_t len = 0;
    char *text = rt_metrics_render(&len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

/* True when text has exactly this line. */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = strstr(text, line); p; p = strstr(p + 1, line))
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

static size_t count_prefix(const char *text, const char *prefix)
{
    size_t count = 0, n = strlen(prefix);
    for (const char *p = text; *p; p = strchr(p, '\n') + 1)
        count += strncmp(p, prefix, n) == 0;
    return count;
}

static void every_method_and_code_starts_at_zero(void **state)
{
    (void)state;
    rt_metrics_init(&svc, 8);
    char *text = render();
    assert_true(has_line(text, "# TYPE grpc_server_started_total counter"));
    assert_true(has_line(text, "# TYPE grpc_server_handled_total counter"));
    assert_true(has_line(text, "# TYPE grpc_server_handling_seconds histogram"));
    assert_true(has_line(text, "grpc_server_started_total{" GET_USER "} 0"));
    assert_true(has_line(text, "grpc_server_handled_total{" GET_USER ",grpc_code=\"OK\"} 0"));
    assert_true(has_line(text, "grpc_server_handled_total{" GET_USER ",grpc_code=\"UNAUTHENTICATED\"} 0"));
    assert_int_equal(count_prefix(text, "grpc_server_handled_total{"), 2 * 17);
    assert_int_equal(count_prefix(text, "grpc_server_handling_seconds_bucket{"), 2 * 15);
    assert_true(has_line(text, "grpc_server_handling_seconds_bucket{" GET_USER ",le=\"0.0005\"} 0"));
    assert_true(has_line(text, "grpc_server_handling_seconds_bucket{" GET_USER ",le=\"+Inf\"} 0"));
    assert_true(has_line(text, "grpc_server_handling_seconds_sum{" GET_USER "} 0"));
    assert_true(has_line(text, "grpc_server_handling_seconds_count{" GET_USER "} 0"));
    /* No peer call yet: the client families are declared but empty. */
    assert_true(has_line(text, "# TYPE grpc_client_handled_total counter"));
    assert_int_equal(count_prefix(text, "grpc_client_handled_total{"), 0);
    assert_true(has_line(text, "db_pool_connections{state=\"up\"} 0"));
    assert_true(has_line(text, "db_pool_connections{state=\"down\"} 8"));
    free(text);
}

static void calls_are_counted_by_code_and_time(void **state)
{
    (void)state;
    rt_metrics_init(&svc, 8);
    const rt_method *get = &methods[1];
    for (int i = 0; i < 3; i++)
        rt_metrics_server_started(get);
    rt_metrics_server_handled(get, GRPC_STATUS_OK, 0.001);  /* le 0.001, inclusive */
    rt_metrics_server_handled(get, GRPC_STATUS_OK, 0.003);  /* le 0.005 */
    rt_metrics_server_handled(get, GRPC_STATUS_NOT_FOUND, 20); /* +Inf only */
    rt_metrics_server_handled(NULL, GRPC_STATUS_UNIMPLEMENTED, 0.001); /* unknown: skipped */
    char *text = render();
    assert_true(has_line(text, "grpc_server_started_total{" GET_USER "} 3"));
    assert_true(has_line(text, "grpc_server_handled_total{" GET_USER ",grpc_code=\"OK\"} 2"));
    assert_true(has_line(text, "grpc_server_handled_total{" GET_USER ",grpc_code=\"NOT_FOUND\"} 1"));
    assert_true(has_line(text, "grpc_server_handled_total{" GET_USER ",grpc_code=\"UNIMPLEMENTED\"} 0"));
    assert_true(has_line(text, "grpc_server_handling_seconds_bucket{" GET_USER ",le=\"0.0005\"} 0"));
    assert_true(has_line(text, "grpc_server_handling_seconds_bucket{" GET_USER ",le=\"0.001\"} 1"));
    assert_true(has_line(text, "grpc_server_handling_seconds_bucket{" GET_USER ",le=\"0.0025\"} 1"));
    assert_true(has_line(text, "grpc_server_handling_seconds_bucket{" GET_USER ",le=\"0.005\"} 2"));
    assert_true(has_line(text, "grpc_server_handling_seconds_bucket{" GET_USER ",le=\"10\"} 2"));
    assert_true(has_line(text, "grpc_server_handling_seconds_bucket{" GET_USER ",le=\"+Inf\"} 3"));
    assert_true(has_line(text, "grpc_server_handling_seconds_sum{" GET_USER "} 20.004"));
    assert_true(has_line(text, "grpc_server_handling_seconds_count{" GET_USER "} 3"));
    assert_null(strstr(text, "unknown"));
    free(text);
}

static void peer_calls_get_rows_on_first_use(void **state)
{
    (void)state;
    rt_metrics_init(&svc, 8);
    const char *path = "/wallet.WalletService/CreateWallet";
    char copy[64];
    strcpy(copy, path); /* another pointer to the same path: the same row */
    rt_metrics_client_started(path);
    rt_metrics_client_handled(path, GRPC_STATUS_OK, 0.01);
    rt_metrics_client_started(copy);
    rt_metrics_client_handled(copy, GRPC_STATUS_UNAVAILABLE, 0.01);
    char *text = render();
    assert_true(has_line(text, "grpc_client_started_total{" CREATE_WALLET "} 2"));
    assert_true(has_line(text, "grpc_client_handled_total{" CREATE_WALLET ",grpc_code=\"OK\"} 1"));
    assert_true(has_line(text, "grpc_client_handled_total{" CREATE_WALLET ",grpc_code=\"UNAVAILABLE\"} 1"));
    assert_true(has_line(text, "grpc_client_handling_seconds_bucket{" CREATE_WALLET ",le=\"0.01\"} 2"));
    assert_int_equal(count_prefix(text, "grpc_client_handled_total{"), 17);
    free(text);
}

static void a_full_table_drops_new_methods(void **state)
{
    (void)state;
    rt_metrics_init(&svc, 8);
    static char paths[RT_METRICS_MAX_METHODS + 5][32];
    for (size_t i = 0; i < RT_METRICS_MAX_METHODS + 5; i++) {
        snprintf(paths[i], sizeof paths[i], "/p.S/M%zu", i);
        rt_metrics_client_handled(paths[i], GRPC_STATUS_OK, 0);
    }
    char *text = render();
    assert_int_equal(count_prefix(text, "grpc_client_started_total{"), RT_METRICS_MAX_METHODS);
    free(text);
}

static void database_sessions_up_and_down(void **state)
{
    (void)state;
    rt_metrics_init(&svc, 3);
    bool a = false, b = false;
    rt_metrics_db_up(&a, true);
    rt_metrics_db_up(&a, true); /* repeated reports count once */
    rt_metrics_db_up(&b, true);
    rt_metrics_db_up(&b, false);
    char *text = render();
    assert_true(has_line(text, "db_pool_connections{state=\"up\"} 1"));
    assert_true(has_line(text, "db_pool_connections{state=\"down\"} 2"));
    free(text);
    rt_metrics_db_up(&a, false);
}

static const char *const *g_env;
static const char *lookup(const char *name)
{
    for (const char *const *p = g_env; p && *p; p += 2)
        if (strcmp(p[0], name) == 0)
            return p[1];
    return NULL;
}

static rt_config_outcome parse(rt_config *c, const char *const *env, const char *flag, char *error)
{
    char *argv[] = {"user-service", (char *)flag, NULL};
    g_env = env;
    return rt_config_parse(c, &svc, flag ? 2 : 1, argv, lookup, error, 256);
}

static void metrics_address_setting(void **state)
{
    (void)state;
    char error[256];
    rt_config c;
    const char *const db[] = {"DATABASE_URL", "postgresql://h/db", NULL};
    assert_int_equal(parse(&c, db, NULL, error), RT_CONFIG_RUN);
    assert_string_equal(c.metrics_listen, "0.0.0.0:9464");
    rt_config_free(&c);
    const char *const env[] = {"DATABASE_URL", "postgresql://h/db", "METRICS_ADDR", "0", NULL};
    assert_int_equal(parse(&c, env, NULL, error), RT_CONFIG_RUN);
    assert_string_equal(c.metrics_listen, "0");
    rt_config_free(&c);
    assert_int_equal(parse(&c, env, "--metrics-listen=127.0.0.1:9999", error), RT_CONFIG_RUN);
    assert_string_equal(c.metrics_listen, "127.0.0.1:9999");
    rt_config_free(&c);
    assert_int_equal(parse(&c, db, "--metrics-listen=9464", error), RT_CONFIG_ERROR);
    assert_non_null(strstr(error, "metrics address '9464'"));
    rt_config_free(&c);

    rt_service wallet = svc;
    wallet.self.default_address = "0.0.0.0:50052";
    char *address = rt_config_default_metrics_address(&wallet);
    assert_string_equal(address, "0.0.0.0:9465");
    free(address);
    wallet.self.default_address = "0.0.0.0:8080";
    address = rt_config_default_metrics_address(&wallet);
    assert_string_equal(address, "0.0.0.0:9464");
    free(address);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_method_and_code_starts_at_zero),
        cmocka_unit_test(calls_are_counted_by_code_and_time),
        cmocka_unit_test(peer_calls_get_rows_on_first_use),
        cmocka_unit_test(a_full_table_drops_new_methods),
        cmocka_unit_test(database_sessions_up_and_down),
        cmocka_unit_test(metrics_address_setting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
