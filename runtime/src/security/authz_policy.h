/* gRPC authorization policies (gRFC A43): the JSON format grpc-go and
 * grpc-C++ servers load, parsed with json-c and evaluated here because
 * Debian's libgrpc lacks the core's policy loader. Pure: no I/O, no
 * threads, so every matching rule is unit-tested (test_authz_policy.c). */
#ifndef RT_AUTHZ_POLICY_H
#define RT_AUTHZ_POLICY_H

#include <grpc/grpc.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct rt_authz_policy rt_authz_policy;

/* Who is calling, from the connection's verified certificate. */
typedef struct {
    bool tls;                /* the connection is TLS */
    bool has_cert;           /* the caller presented a certificate that was verified */
    const char *const *uri_sans;
    size_t n_uri_sans;
    const char *const *dns_sans;
    size_t n_dns_sans;
    const char *subject;     /* NULL when none */
    const char *identity;    /* for logs: the first URI SAN, else the subject; NULL: none */
} rt_authz_peer;

typedef struct {
    bool allowed;
    const char *rule; /* the deny or allow rule that decided; NULL: no rule matched */
} rt_authz_decision;

/* NULL with a message in error (e.g. `allow_rules 1: "name" is not
 * present`) when the text is not a valid policy; unknown fields are
 * invalid, as A43 requires, so a newer policy never half-applies. */
rt_authz_policy *rt_authz_policy_parse(const char *json, char *error, size_t error_size);
void rt_authz_policy_free(rt_authz_policy *policy);
/* The policy's "name". */
const char *rt_authz_policy_name(const rt_authz_policy *policy);

/* Deny rules first: any match denies. Then allow rules: any match allows.
 * Nothing matched: denied. path is "/package.Service/Method"; headers are
 * the call's metadata (repeated keys are one value joined by commas). */
rt_authz_decision rt_authz_policy_decide(const rt_authz_policy *policy, const rt_authz_peer *peer,
                                         const char *path, const grpc_metadata_array *headers);

#endif
