/* gRFC A43 policies: the proposal's own example (admins, header-gated dev
 * access, a deny that beats every allow), each pattern kind, how a
 * principal is found in a certificate, and every way a policy is invalid;
 * then the example policy this repository ships (config/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "authz_policy.h"

/* gRFC A43's example policy, as the proposal gives it. */
static const char a43_example[] =
    "{\"name\":\"example-policy\","
    " \"allow_rules\":["
    "  {\"name\":\"admin-access\","
    "   \"source\":{\"principals\":[\"spiffe://foo.com/sa/admin1\",\"spiffe://foo.com/sa/admin2\"]},"
    "   \"request\":{\"paths\":[\"/pkg.service/*\"]}},"
    "  {\"name\":\"dev-access\","
    "   \"source\":{\"principals\":[\"*\",\"\"]},"
    "   \"request\":{\"paths\":[\"/pkg.service/foo\",\"/pkg.service/bar\"],"
    "                \"headers\":[{\"key\":\"dev-path\",\"values\":[\"/dev/path/*\"]}]}}],"
    " \"deny_rules\":["
    "  {\"name\":\"deny-access\",\"request\":{\"paths\":[\"*/secret\"]}}]}";

static const char *const admin1_uri[] = {"spiffe://foo.com/sa/admin1"};
static const char *const dev_uri[] = {"spiffe://foo.com/sa/dev"};

static const rt_authz_peer admin1 = {.tls = true, .has_cert = true, .uri_sans = admin1_uri, .n_uri_sans = 1};
static const rt_authz_peer dev = {.tls = true, .has_cert = true, .uri_sans = dev_uri, .n_uri_sans = 1};
static const rt_authz_peer tls_no_cert = {.tls = true};
static const rt_authz_peer plaintext = {0};

static rt_authz_policy *parse_ok(const char *json)
{
    char error[256] = "";
    rt_authz_policy *p = rt_authz_policy_parse(json, error, sizeof error);
    if (!p)
        fail_msg("policy rejected: %s", error);
    return p;
}

/* Metadata with up to 4 key/value pairs (NULL-terminated). */
typedef struct {
    grpc_metadata items[4];
    grpc_metadata_array array;
} headers;

static const grpc_metadata_array *with(headers *h, ...)
{
    va_list ap;
    va_start(ap, h);
    size_t n = 0;
    for (const char *k; n < 4 && (k = va_arg(ap, const char *));) {
        h->items[n].key = grpc_slice_from_static_string(k);
        h->items[n++].value = grpc_slice_from_static_string(va_arg(ap, const char *));
    }
    va_end(ap);
    h->array = (grpc_metadata_array){.count = n, .capacity = n, .metadata = h->items};
    return &h->array;
}

static void expect(const rt_authz_policy *p, const rt_authz_peer *peer, const char *path,
                   const grpc_metadata_array *md, bool allowed, const char *rule)
{
    rt_authz_decision d = rt_authz_policy_decide(p, peer, path, md);
    assert_int_equal(d.allowed, allowed);
    if (rule)
        assert_string_equal(d.rule, rule);
    else
        assert_null(d.rule);
}

static void a43_admins_reach_every_method(void **state)
{
    (void)state;
    rt_authz_policy *p = parse_ok(a43_example);
    assert_string_equal(rt_authz_policy_name(p), "example-policy");
    expect(p, &admin1, "/pkg.service/baz", NULL, true, "admin-access");
    expect(p, &admin1, "/pkg.service/foo", NULL, true, "admin-access");
    expect(p, &dev, "/pkg.service/baz", NULL, false, NULL);
    expect(p, &admin1, "/other.service/baz", NULL, false, NULL);
    rt_authz_policy_free(p);
}

static void a43_deny_beats_allow(void **state)
{
    (void)state;
    rt_authz_policy *p = parse_ok(a43_example);
    headers h;
    expect(p, &admin1, "/pkg.service/secret", NULL, false, "deny-access");
    expect(p, &dev, "/pkg.service/secret", with(&h, "dev-path", "/dev/path/x", NULL), false, "deny-access");
    expect(p, &plaintext, "/any.thing/secret", NULL, false, "deny-access");
    rt_authz_policy_free(p);
}

static void a43_dev_access_needs_the_header(void **state)
{
    (void)state;
    rt_authz_policy *p = parse_ok(a43_example);
    headers h;
    expect(p, &dev, "/pkg.service/foo", with(&h, "dev-path", "/dev/path/a", NULL), true, "dev-access");
    expect(p, &dev, "/pkg.service/bar", with(&h, "dev-path", "/dev/path/", NULL), true, "dev-access");
    expect(p, &dev, "/pkg.service/foo", NULL, false, NULL);
    expect(p, &dev, "/pkg.service/foo", with(&h, "dev-path", "/prod/path", NULL), false, NULL);
    expect(p, &dev, "/pkg.service/foo", with(&h, "other", "/dev/path/a", NULL), false, NULL);
    expect(p, &dev, "/pkg.service/baz", with(&h, "dev-path", "/dev/path/a", NULL), false, NULL);
    /* "" is the caller on TLS without a certificate; plaintext matches no principal. */
    expect(p, &tls_no_cert, "/pkg.service/foo", with(&h, "dev-path", "/dev/path/a", NULL), true, "dev-access");
    expect(p, &plaintext, "/pkg.service/foo", with(&h, "dev-path", "/dev/path/a", NULL), false, NULL);
    rt_authz_policy_free(p);
}

static void repeated_headers_join_with_commas(void **state)
{
    (void)state;
    rt_authz_policy *p = parse_ok("{\"name\":\"h\",\"allow_rules\":[{\"name\":\"r\",\"request\":"
                                  "{\"headers\":[{\"key\":\"tenant\",\"values\":[\"a,b\"]},"
                                  "{\"key\":\"x-flag\",\"values\":[\"*\"]}]}}]}");
    headers h;
    expect(p, &plaintext, "/s/m", with(&h, "tenant", "a", "tenant", "b", "x-flag", "1", NULL), true, "r");
    expect(p, &plaintext, "/s/m", with(&h, "tenant", "a", "x-flag", "1", NULL), false, NULL);
    /* every header must match; "*" needs a non-empty value */
    expect(p, &plaintext, "/s/m", with(&h, "tenant", "a", "tenant", "b", NULL), false, NULL);
    expect(p, &plaintext, "/s/m", with(&h, "tenant", "a", "tenant", "b", "x-flag", "", NULL), false, NULL);
    rt_authz_policy_free(p);
}

static void patterns_exact_prefix_suffix_presence(void **state)
{
    (void)state;
    rt_authz_policy *p = parse_ok("{\"name\":\"p\",\"allow_rules\":["
                                  "{\"name\":\"exact\",\"request\":{\"paths\":[\"/a.S/Get\"]}},"
                                  "{\"name\":\"prefix\",\"request\":{\"paths\":[\"/b.S/*\"]}},"
                                  "{\"name\":\"suffix\",\"request\":{\"paths\":[\"*/Watch\"]}}]}");
    expect(p, &plaintext, "/a.S/Get", NULL, true, "exact");
    expect(p, &plaintext, "/a.S/GetMore", NULL, false, NULL);
    expect(p, &plaintext, "/b.S/", NULL, true, "prefix");
    expect(p, &plaintext, "/b.S/Anything", NULL, true, "prefix");
    expect(p, &plaintext, "/c.S/Watch", NULL, true, "suffix");
    expect(p, &plaintext, "/c.S/Watcher", NULL, false, NULL);
    rt_authz_policy_free(p);
}

static void empty_rule_matches_everything(void **state)
{
    (void)state;
    rt_authz_policy *p = parse_ok("{\"name\":\"open\",\"allow_rules\":[{\"name\":\"all\"}]}");
    expect(p, &plaintext, "/x.Y/Z", NULL, true, "all");
    rt_authz_policy_free(p);
    p = parse_ok("{\"name\":\"closed\",\"deny_rules\":[{\"name\":\"none\"}],\"allow_rules\":[{\"name\":\"all\"}]}");
    expect(p, &admin1, "/x.Y/Z", NULL, false, "none");
    rt_authz_policy_free(p);
    p = parse_ok("{\"name\":\"nobody\",\"allow_rules\":[]}");
    expect(p, &admin1, "/x.Y/Z", NULL, false, NULL);
    rt_authz_policy_free(p);
}

/* URI SANs first, then DNS SANs, then the subject; "*" is any certificate. */
static void principals_from_certificate(void **state)
{
    (void)state;
    rt_authz_policy *p = parse_ok("{\"name\":\"c\",\"allow_rules\":["
                                  "{\"name\":\"dns\",\"source\":{\"principals\":[\"*.example.com\"]},"
                                  " \"request\":{\"paths\":[\"/dns\"]}},"
                                  "{\"name\":\"subject\",\"source\":{\"principals\":[\"CN=ops,O=Wallet\"]},"
                                  " \"request\":{\"paths\":[\"/subject\"]}},"
                                  "{\"name\":\"anyone\",\"source\":{\"principals\":[\"*\"]},"
                                  " \"request\":{\"paths\":[\"/any\"]}}]}");
    static const char *const dns[] = {"a.example.org", "api.example.com"};
    rt_authz_peer by_dns = {.tls = true, .has_cert = true, .uri_sans = admin1_uri, .n_uri_sans = 1,
                            .dns_sans = dns, .n_dns_sans = 2, .subject = "CN=api"};
    rt_authz_peer by_subject = {.tls = true, .has_cert = true, .subject = "CN=ops,O=Wallet"};
    expect(p, &by_dns, "/dns", NULL, true, "dns");
    expect(p, &by_subject, "/dns", NULL, false, NULL);
    expect(p, &by_subject, "/subject", NULL, true, "subject");
    expect(p, &by_dns, "/subject", NULL, false, NULL);
    expect(p, &by_subject, "/any", NULL, true, "anyone");
    expect(p, &tls_no_cert, "/any", NULL, false, NULL);
    expect(p, &plaintext, "/any", NULL, false, NULL);
    rt_authz_policy_free(p);
}

/* The A43 pitfall docs/security.md warns of: principal "" matches a caller
 * without a certificate on TLS, and also a verified certificate whose
 * subject is empty and that has no SANs (grpc-core does the same). */
static void empty_principal_matches_an_empty_subject(void **state)
{
    (void)state;
    rt_authz_policy *p = parse_ok("{\"name\":\"e\",\"allow_rules\":["
                                  "{\"name\":\"no-certificate\",\"source\":{\"principals\":[\"\"]}}]}");
    rt_authz_peer empty_subject = {.tls = true, .has_cert = true, .subject = ""};
    rt_authz_peer with_subject = {.tls = true, .has_cert = true, .subject = "CN=ops"};
    expect(p, &tls_no_cert, "/a", NULL, true, "no-certificate");
    expect(p, &empty_subject, "/a", NULL, true, "no-certificate");
    expect(p, &with_subject, "/a", NULL, false, NULL);
    expect(p, &plaintext, "/a", NULL, false, NULL);
    rt_authz_policy_free(p);
}

static void invalid(const char *json, const char *message)
{
    char error[256] = "";
    rt_authz_policy *p = rt_authz_policy_parse(json, error, sizeof error);
    if (p) {
        rt_authz_policy_free(p);
        fail_msg("accepted: %s", json);
    }
    if (!strstr(error, message))
        fail_msg("for %s: error '%s' lacks '%s'", json, error, message);
}

static void invalid_policies(void **state)
{
    (void)state;
    invalid("{\"name\":\"x\",,}", "not valid JSON");
    invalid("{\"name\":\"x\",\"allow_rules\":[]} trailing", "not valid JSON");
    invalid("[]", "not a JSON object");
    invalid("{\"allow_rules\":[]}", "\"name\" is not present");
    invalid("{\"name\":1,\"allow_rules\":[]}", "\"name\" is not a string");
    invalid("{\"name\":\"x\"}", "\"allow_rules\" is not present");
    invalid("{\"name\":\"x\",\"allow_rules\":{}}", "\"allow_rules\" is not an array");
    invalid("{\"name\":\"x\",\"allow_rules\":[],\"audit_logging_options\":{}}", "unknown field \"audit_logging_options\"");
    invalid("{\"name\":\"x\",\"allow_rules\":[{}]}", "allow_rules 0: \"name\" is not present");
    invalid("{\"name\":\"x\",\"deny_rules\":[{\"name\":\"d\",\"source\":{\"principals\":[1]}}],\"allow_rules\":[]}",
            "deny_rules 0: \"principals\" 0: is not a string");
    invalid("{\"name\":\"x\",\"allow_rules\":[{\"name\":\"r\",\"source\":{\"ip\":[]}}]}", "unknown field \"ip\"");
    invalid("{\"name\":\"x\",\"allow_rules\":[{\"name\":\"r\",\"request\":{\"paths\":\"/a\"}}]}",
            "\"paths\" is not an array");
    invalid("{\"name\":\"x\",\"allow_rules\":[{\"name\":\"r\",\"request\":{\"headers\":[{\"values\":[\"v\"]}]}}]}",
            "headers 0: \"key\" is not present");
    invalid("{\"name\":\"x\",\"allow_rules\":[{\"name\":\"r\",\"request\":{\"headers\":[{\"key\":\"k\"}]}}]}",
            "\"values\" is not present");
    invalid("{\"name\":\"x\",\"allow_rules\":[{\"name\":\"r\",\"request\":{\"headers\":[{\"key\":\"k\",\"values\":[]}]}}]}",
            "\"values\" list is empty");
    const char *refused[] = {":path", "grpc-timeout", "host", "Host", "connection", "te"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char json[256];
        snprintf(json, sizeof json,
                 "{\"name\":\"x\",\"allow_rules\":[{\"name\":\"r\",\"request\":{\"headers\":"
                 "[{\"key\":\"%s\",\"values\":[\"v\"]}]}}]}", refused[i]);
        invalid(json, "unsupported \"key\"");
    }
    /* A43 pitfall: header keys compare exactly and metadata keys are lowercase, so a key
     * with capitals would never match (a deny rule silently off): refused, naming the rule. */
    invalid("{\"name\":\"x\",\"deny_rules\":[{\"name\":\"no-test-tenant\",\"request\":{\"headers\":"
            "[{\"key\":\"X-Tenant\",\"values\":[\"test\"]}]}}],\"allow_rules\":[]}",
            "deny_rules 0 (\"no-test-tenant\"): headers 0: \"key\" X-Tenant has capitals, which never match");
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (run from the repository root)", path);
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static rt_authz_peer spiffe(const char *const *uri)
{
    return (rt_authz_peer){.tls = true, .has_cert = true, .uri_sans = uri, .n_uri_sans = 1};
}

/* The shipped example: each method by the identities the README names. */
static void shipped_example_policy(void **state)
{
    (void)state;
    rt_authz_policy *p = parse_ok(read_text("config/authz-policy.json"));
    static const char *const u[] = {"spiffe://wallet.local/user-service"};
    static const char *const w[] = {"spiffe://wallet.local/wallet-service"};
    static const char *const a[] = {"spiffe://wallet.local/client/admin"};
    static const char *const pay[] = {"spiffe://wallet.local/client/payments"};
    static const char *const other[] = {"spiffe://wallet.local/client/support"};
    rt_authz_peer user = spiffe(u), wallet = spiffe(w), admin = spiffe(a), payments = spiffe(pay),
                  support = spiffe(other);
    const char *create_wallet = "/wallet.WalletService/CreateWallet", *credit = "/wallet.WalletService/CreditWallet",
               *debit = "/wallet.WalletService/DebitWallet", *get_user = "/user.UserService/GetUserById";
    expect(p, &user, create_wallet, NULL, true, "only-user-service-creates-wallets");
    expect(p, &admin, create_wallet, NULL, false, NULL);
    expect(p, &wallet, create_wallet, NULL, false, NULL);
    expect(p, &wallet, get_user, NULL, true, "wallet-service-and-admins-read-users");
    expect(p, &admin, get_user, NULL, true, "wallet-service-and-admins-read-users");
    expect(p, &user, get_user, NULL, false, NULL);
    expect(p, &support, get_user, NULL, false, NULL);
    expect(p, &payments, credit, NULL, true, "named-clients-move-money");
    expect(p, &admin, debit, NULL, true, "named-clients-move-money");
    expect(p, &support, credit, NULL, false, NULL);
    expect(p, &user, debit, NULL, false, NULL);
    expect(p, &support, "/wallet.WalletService/GetWallet", NULL, true, "clients-create-users-and-read-wallets");
    expect(p, &support, "/grpc.health.v1.Health/Check", NULL, true, "platform-identities-use-health-and-reflection");
    expect(p, &tls_no_cert, "/wallet.WalletService/GetWallet", NULL, false, "no-caller-without-certificate");
    expect(p, &plaintext, "/wallet.WalletService/GetWallet", NULL, false, NULL);
    rt_authz_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a43_admins_reach_every_method),
        cmocka_unit_test(a43_deny_beats_allow),
        cmocka_unit_test(a43_dev_access_needs_the_header),
        cmocka_unit_test(repeated_headers_join_with_commas),
        cmocka_unit_test(patterns_exact_prefix_suffix_presence),
        cmocka_unit_test(empty_rule_matches_everything),
        cmocka_unit_test(principals_from_certificate),
        cmocka_unit_test(empty_principal_matches_an_empty_subject),
        cmocka_unit_test(invalid_policies),
        cmocka_unit_test(shipped_example_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
