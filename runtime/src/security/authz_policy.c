/* gRFC A43 policies (authz_policy.h): parsing into matchers, then the
 * deny-then-allow evaluation. Value patterns as A43 defines them: "*"
 * alone matches any non-empty value, a leading "*" a suffix, a trailing
 * "*" a prefix, anything else the exact text ("*a*" is the suffix "a*",
 * as in gRPC's own translator). */
#include "authz_policy.h"

#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error_text.h"

typedef enum { MATCH_EXACT, MATCH_PREFIX, MATCH_SUFFIX, MATCH_PRESENT } match_kind;

typedef struct {
    match_kind kind;
    char *text; /* without the '*' */
    size_t len;
} matcher;

typedef struct {
    matcher *items;
    size_t n;
} matcher_list;

typedef struct {
    char *key;
    matcher_list values; /* any of them */
} header_rule;

/* Every non-empty part must match: principals (any), paths (any), headers (all). */
typedef struct {
    char *name;
    matcher_list principals;
    matcher_list paths;
    header_rule *headers;
    size_t n_headers;
} rule;

typedef struct {
    rule *items;
    size_t n;
} rule_list;

struct rt_authz_policy {
    char *name;
    rule_list deny;
    rule_list allow;
};

/* --- Parsing --- */

static void *zalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

static char *dup_string(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

/* A43: a field this version does not know makes the policy invalid. */
static bool only_fields(json_object *obj, const char *const *known, const char *where, char *error,
                        size_t size)
{
    json_object_object_foreach(obj, key, value) {
        (void)value;
        bool found = false;
        for (const char *const *k = known; *k && !found; k++)
            found = strcmp(key, *k) == 0;
        if (!found)
            return rt_error_text(error, size, "%s: unknown field \"%s\"", where, key);
    }
    return true;
}

/* The member key of obj when it has the wanted type; *out NULL when absent. */
static bool member(json_object *obj, const char *key, json_type type, const char *type_name,
                   json_object **out, const char *where, char *error, size_t size)
{
    *out = NULL;
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v))
        return true;
    if (!json_object_is_type(v, type))
        return rt_error_text(error, size, "%s: \"%s\" is not %s", where, key, type_name);
    *out = v;
    return true;
}

static void compile_matcher(const char *pattern, matcher *m)
{
    size_t len = strlen(pattern);
    if (strcmp(pattern, "*") == 0) {
        m->kind = MATCH_PRESENT;
        m->text = dup_string("");
    } else if (pattern[0] == '*') {
        m->kind = MATCH_SUFFIX;
        m->text = dup_string(pattern + 1);
    } else if (len > 0 && pattern[len - 1] == '*') {
        m->kind = MATCH_PREFIX;
        m->text = dup_string(pattern);
        m->text[len - 1] = '\0';
    } else {
        m->kind = MATCH_EXACT;
        m->text = dup_string(pattern);
    }
    m->len = strlen(m->text);
}

/* An array of string patterns (key of parent, or parent itself when key is NULL). */
static bool parse_patterns(json_object *array, const char *key, matcher_list *out, const char *where,
                           char *error, size_t size)
{
    size_t n = json_object_array_length(array);
    out->items = zalloc(n, sizeof *out->items);
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(array, i);
        if (!json_object_is_type(item, json_type_string))
            return rt_error_text(error, size, "%s: \"%s\" %zu: is not a string", where, key, i);
        compile_matcher(json_object_get_string(item), &out->items[out->n++]);
    }
    return true;
}

/* Header keys gRPC's own policy engine refuses: pseudo-headers, Host,
 * grpc-* and the hop-by-hop ones, which never reach a handler intact. */
static bool unsupported_header(const char *key)
{
    static const char *const hop_by_hop[] = {"host", "connection", "keep-alive", "proxy-connection",
                                             "transfer-encoding", "upgrade", "te"};
    if (key[0] == ':' || strncasecmp(key, "grpc-", 5) == 0)
        return true;
    for (size_t i = 0; i < sizeof hop_by_hop / sizeof hop_by_hop[0]; i++)
        if (strcasecmp(key, hop_by_hop[i]) == 0)
            return true;
    return false;
}

static bool parse_header(json_object *obj, header_rule *h, const char *where, char *error, size_t size)
{
    static const char *const known[] = {"key", "values", NULL};
    json_object *key, *values;
    if (!json_object_is_type(obj, json_type_object))
        return rt_error_text(error, size, "%s: is not an object", where);
    if (!only_fields(obj, known, where, error, size) ||
        !member(obj, "key", json_type_string, "a string", &key, where, error, size) ||
        !member(obj, "values", json_type_array, "an array", &values, where, error, size))
        return false;
    if (!key)
        return rt_error_text(error, size, "%s: \"key\" is not present", where);
    if (!values)
        return rt_error_text(error, size, "%s: \"values\" is not present", where);
    const char *name = json_object_get_string(key);
    if (unsupported_header(name))
        return rt_error_text(error, size, "%s: unsupported \"key\" %s", where, name);
    /* gRPC delivers metadata keys in lowercase, and A43 compares header keys
     * exactly (grpc-core does too): a key with capitals would never match,
     * silently turning a deny rule off. */
    for (const char *c = name; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            return rt_error_text(error, size,
                                 "%s: \"key\" %s has capitals, which never match: gRPC metadata keys are lowercase",
                                 where, name);
    if (json_object_array_length(values) == 0)
        return rt_error_text(error, size, "%s: \"values\" list is empty", where);
    h->key = dup_string(name);
    return parse_patterns(values, "values", &h->values, where, error, size);
}

static bool parse_request(json_object *obj, rule *r, const char *where, char *error, size_t size)
{
    static const char *const known[] = {"paths", "headers", NULL};
    json_object *paths, *headers;
    if (!only_fields(obj, known, where, error, size) ||
        !member(obj, "paths", json_type_array, "an array", &paths, where, error, size) ||
        !member(obj, "headers", json_type_array, "an array", &headers, where, error, size))
        return false;
    if (paths && !parse_patterns(paths, "paths", &r->paths, where, error, size))
        return false;
    if (!headers)
        return true;
    size_t n = json_object_array_length(headers);
    r->headers = zalloc(n, sizeof *r->headers);
    for (size_t i = 0; i < n; i++) {
        char here[256];
        snprintf(here, sizeof here, "%s: headers %zu", where, i);
        r->n_headers++; /* counted first: a half-parsed header is freed too */
        if (!parse_header(json_object_array_get_idx(headers, i), &r->headers[i], here, error, size))
            return false;
    }
    return true;
}

static bool parse_rule(json_object *obj, rule *r, const char *where, char *error, size_t size)
{
    static const char *const known[] = {"name", "source", "request", NULL};
    static const char *const source_known[] = {"principals", NULL};
    json_object *name, *source, *request, *principals = NULL;
    if (!json_object_is_type(obj, json_type_object))
        return rt_error_text(error, size, "%s: is not an object", where);
    if (!only_fields(obj, known, where, error, size) ||
        !member(obj, "name", json_type_string, "a string", &name, where, error, size) ||
        !member(obj, "source", json_type_object, "an object", &source, where, error, size) ||
        !member(obj, "request", json_type_object, "an object", &request, where, error, size))
        return false;
    if (!name)
        return rt_error_text(error, size, "%s: \"name\" is not present", where);
    r->name = dup_string(json_object_get_string(name));
    if (source && (!only_fields(source, source_known, where, error, size) ||
                   !member(source, "principals", json_type_array, "an array", &principals, where,
                           error, size)))
        return false;
    if (principals && !parse_patterns(principals, "principals", &r->principals, where, error, size))
        return false;
    char named[192]; /* a request's errors name the rule: "allow_rules 2 (\"payments\"): headers 0: ..." */
    snprintf(named, sizeof named, "%s (\"%.96s\")", where, r->name);
    return !request || parse_request(request, r, named, error, size);
}

static bool parse_rules(json_object *array, const char *key, rule_list *out, char *error, size_t size)
{
    size_t n = json_object_array_length(array);
    out->items = zalloc(n, sizeof *out->items);
    for (size_t i = 0; i < n; i++) {
        char where[64];
        snprintf(where, sizeof where, "%s %zu", key, i);
        out->n++;
        if (!parse_rule(json_object_array_get_idx(array, i), &out->items[i], where, error, size))
            return false;
    }
    return true;
}

static void free_matchers(matcher_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].text);
    free(l->items);
}

static void free_rules(rule_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        rule *r = &l->items[i];
        free(r->name);
        free_matchers(&r->principals);
        free_matchers(&r->paths);
        for (size_t k = 0; k < r->n_headers; k++) {
            free(r->headers[k].key);
            free_matchers(&r->headers[k].values);
        }
        free(r->headers);
    }
    free(l->items);
}

void rt_authz_policy_free(rt_authz_policy *p)
{
    if (!p)
        return;
    free(p->name);
    free_rules(&p->deny);
    free_rules(&p->allow);
    free(p);
}

/* The whole text must be one JSON value: strict mode also refuses comments
 * and anything after the value. */
static json_object *parse_json(const char *text, char *error, size_t size)
{
    json_tokener *tok = json_tokener_new();
    if (!tok)
        abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    size_t len = strlen(text);
    json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error err = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (!root || err != json_tokener_success) {
        rt_error_text(error, size, "not valid JSON: %s at offset %zu",
             json_tokener_error_desc(err == json_tokener_success ? json_tokener_continue : err), end);
        json_object_put(root);
        root = NULL;
    }
    json_tokener_free(tok);
    return root;
}

static bool parse_policy(json_object *root, rt_authz_policy *p, char *error, size_t size)
{
    static const char *const known[] = {"name", "deny_rules", "allow_rules", NULL};
    json_object *name, *deny, *allow;
    if (!json_object_is_type(root, json_type_object))
        return rt_error_text(error, size, "the policy is not a JSON object");
    if (!only_fields(root, known, "policy", error, size) ||
        !member(root, "name", json_type_string, "a string", &name, "policy", error, size) ||
        !member(root, "deny_rules", json_type_array, "an array", &deny, "policy", error, size) ||
        !member(root, "allow_rules", json_type_array, "an array", &allow, "policy", error, size))
        return false;
    if (!name)
        return rt_error_text(error, size, "policy: \"name\" is not present");
    if (!allow)
        return rt_error_text(error, size, "policy: \"allow_rules\" is not present");
    p->name = dup_string(json_object_get_string(name));
    return (!deny || parse_rules(deny, "deny_rules", &p->deny, error, size)) &&
           parse_rules(allow, "allow_rules", &p->allow, error, size);
}

rt_authz_policy *rt_authz_policy_parse(const char *json, char *error, size_t size)
{
    json_object *root = parse_json(json, error, size);
    if (!root)
        return NULL;
    rt_authz_policy *p = zalloc(1, sizeof *p);
    if (!parse_policy(root, p, error, size)) {
        rt_authz_policy_free(p);
        p = NULL;
    }
    json_object_put(root);
    return p;
}

const char *rt_authz_policy_name(const rt_authz_policy *p)
{
    return p->name;
}

/* --- Evaluation --- */

static bool match_bytes(const matcher *m, const char *value, size_t n)
{
    switch (m->kind) {
    case MATCH_EXACT: return n == m->len && memcmp(value, m->text, n) == 0;
    case MATCH_PREFIX: return n >= m->len && memcmp(value, m->text, m->len) == 0;
    case MATCH_SUFFIX: return n >= m->len && memcmp(value + n - m->len, m->text, m->len) == 0;
    case MATCH_PRESENT: return n > 0;
    }
    return false;
}

static bool match(const matcher *m, const char *value)
{
    return value && match_bytes(m, value, strlen(value));
}

static bool match_any_of(const matcher *m, const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (match(m, values[i]))
            return true;
    return false;
}

/* A43: no TLS, no match; TLS without a client certificate matches only
 * ""; a certificate matches on a URI SAN, else a DNS SAN, else its subject. */
static bool principal_matches(const matcher *m, const rt_authz_peer *peer)
{
    if (!peer->tls)
        return false;
    if (!peer->has_cert)
        return m->kind == MATCH_EXACT && m->len == 0;
    return match_any_of(m, peer->uri_sans, peer->n_uri_sans) ||
           match_any_of(m, peer->dns_sans, peer->n_dns_sans) || match(m, peer->subject);
}

/* Repeated keys are one value with commas between; an absent header matches nothing. */
static bool header_matches(const header_rule *h, const grpc_metadata_array *md)
{
    size_t total = 0, found = 0;
    for (size_t i = 0; md && i < md->count; i++)
        if (grpc_slice_str_cmp(md->metadata[i].key, h->key) == 0) {
            total += GRPC_SLICE_LENGTH(md->metadata[i].value) + 1;
            found++;
        }
    if (!found)
        return false;
    char *joined = zalloc(total, 1);
    size_t len = 0;
    for (size_t i = 0; i < md->count; i++)
        if (grpc_slice_str_cmp(md->metadata[i].key, h->key) == 0) {
            if (len)
                joined[len++] = ',';
            size_t n = GRPC_SLICE_LENGTH(md->metadata[i].value);
            memcpy(joined + len, GRPC_SLICE_START_PTR(md->metadata[i].value), n);
            len += n;
        }
    bool ok = false;
    for (size_t v = 0; v < h->values.n && !ok; v++)
        ok = match_bytes(&h->values.items[v], joined, len);
    free(joined);
    return ok;
}

static bool rule_matches(const rule *r, const rt_authz_peer *peer, const char *path,
                         const grpc_metadata_array *md)
{
    bool ok = r->principals.n == 0;
    for (size_t i = 0; i < r->principals.n && !ok; i++)
        ok = principal_matches(&r->principals.items[i], peer);
    if (!ok)
        return false;
    ok = r->paths.n == 0;
    for (size_t i = 0; i < r->paths.n && !ok; i++)
        ok = match(&r->paths.items[i], path);
    for (size_t i = 0; i < r->n_headers && ok; i++)
        ok = header_matches(&r->headers[i], md);
    return ok;
}

static const rule *first_match(const rule_list *rules, const rt_authz_peer *peer, const char *path,
                               const grpc_metadata_array *md)
{
    for (size_t i = 0; i < rules->n; i++)
        if (rule_matches(&rules->items[i], peer, path, md))
            return &rules->items[i];
    return NULL;
}

rt_authz_decision rt_authz_policy_decide(const rt_authz_policy *p, const rt_authz_peer *peer,
                                         const char *path, const grpc_metadata_array *md)
{
    const rule *r = first_match(&p->deny, peer, path, md);
    if (r)
        return (rt_authz_decision){.allowed = false, .rule = r->name};
    r = first_match(&p->allow, peer, path, md);
    return (rt_authz_decision){.allowed = r != NULL, .rule = r ? r->name : NULL};
}
