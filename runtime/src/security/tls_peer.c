/* The caller's identity (tls_peer.h). The core's TLS handshake puts the
 * peer certificate's fields into the auth context: transport type, URI
 * and DNS SANs, subject, and the PEM of the certificate when one was
 * presented (and, under mutual TLS, verified). */
#include "tls_peer.h"

#include <grpc/grpc_security.h>
#include <string.h>

/* Every value of the property called name, copied into arena. */
static const char *const *values_of(const grpc_auth_context *ctx, const char *name, rt_arena *arena,
                                    size_t *n)
{
    *n = 0;
    grpc_auth_property_iterator it = grpc_auth_context_find_properties_by_name(ctx, name);
    while (grpc_auth_property_iterator_next(&it))
        (*n)++;
    if (!*n)
        return NULL;
    const char **out = rt_arena_alloc(arena, *n * sizeof *out);
    it = grpc_auth_context_find_properties_by_name(ctx, name);
    const grpc_auth_property *p;
    for (size_t i = 0; (p = grpc_auth_property_iterator_next(&it)) != NULL; i++)
        out[i] = rt_arena_strndup(arena, p->value, p->value_length);
    return out;
}

static const char *value_of(const grpc_auth_context *ctx, const char *name, rt_arena *arena)
{
    size_t n;
    const char *const *values = values_of(ctx, name, arena, &n);
    return n ? values[0] : NULL;
}

/* The security connector calls TLS "ssl" or "tls" depending on the credentials type. */
static bool is_tls(const char *transport)
{
    return transport && (strcmp(transport, GRPC_SSL_TRANSPORT_SECURITY_TYPE) == 0 ||
                         strcmp(transport, GRPC_TLS_TRANSPORT_SECURITY_TYPE) == 0);
}

void rt_tls_peer_of(grpc_call *call, rt_arena *arena, rt_authz_peer *peer)
{
    memset(peer, 0, sizeof *peer);
    grpc_auth_context *ctx = grpc_call_auth_context(call);
    if (!ctx)
        return;
    peer->tls = is_tls(value_of(ctx, GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME, arena));
    grpc_auth_property_iterator pem = grpc_auth_context_find_properties_by_name(ctx, GRPC_X509_PEM_CERT_PROPERTY_NAME);
    peer->has_cert = peer->tls && grpc_auth_property_iterator_next(&pem) != NULL;
    if (peer->has_cert) {
        peer->uri_sans = values_of(ctx, GRPC_PEER_URI_PROPERTY_NAME, arena, &peer->n_uri_sans);
        peer->dns_sans = values_of(ctx, GRPC_PEER_DNS_PROPERTY_NAME, arena, &peer->n_dns_sans);
        peer->subject = value_of(ctx, GRPC_X509_SUBJECT_PROPERTY_NAME, arena);
        peer->identity = peer->n_uri_sans ? peer->uri_sans[0] : peer->subject;
    }
    grpc_auth_context_release(ctx);
}
