/* The admission class of a call from its verified origin (admission.h):
 * what a peer's certificate or address proves, never a header alone. */
#include "admission.h"

#include <arpa/inet.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "log.h"

struct rt_admission {
    char **names; /* what a peer's certificate must name (a DNS or IP SAN) */
    size_t n_names;
    char **addresses; /* the peers' hosts resolved, as inet_ntop writes them */
    size_t n_addresses;
};

static void push(char ***list, size_t *n, const char *value)
{
    for (size_t i = 0; i < *n; i++)
        if (strcasecmp((*list)[i], value) == 0)
            return;
    char **grown = realloc(*list, (*n + 1) * sizeof *grown);
    char *copy = strdup(value);
    if (!grown || !copy)
        abort();
    grown[(*n)++] = copy;
    *list = grown;
}

/* An address in one spelling, so "::ffff:127.0.0.1" and "127.0.0.1" (or
 * "0:0::1" and "::1") compare equal. False when text is not an address. */
static bool canonical(const char *text, char *out, size_t size)
{
    unsigned char bytes[16];
    if (inet_pton(AF_INET, text, bytes) == 1)
        return inet_ntop(AF_INET, bytes, out, (socklen_t)size) != NULL;
    if (inet_pton(AF_INET6, text, bytes) != 1)
        return false;
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(bytes, v4_mapped, sizeof v4_mapped) == 0)
        return inet_ntop(AF_INET, bytes + 12, out, (socklen_t)size) != NULL;
    return inet_ntop(AF_INET6, bytes, out, (socklen_t)size) != NULL;
}

static void resolve(rt_admission *a, const char *host)
{
    char text[INET6_ADDRSTRLEN];
    if (canonical(host, text, sizeof text)) {
        push(&a->addresses, &a->n_addresses, text);
        return;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *found = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &found);
    if (rc != 0) {
        rt_log(RT_LOG_WARN, "peer host %s does not resolve (%s): its plaintext calls get the callers' admission class",
               host, gai_strerror(rc));
        return;
    }
    for (struct addrinfo *ai = found; ai; ai = ai->ai_next) {
        const void *bytes = ai->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                                     : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        char raw[INET6_ADDRSTRLEN];
        if (inet_ntop(ai->ai_family, bytes, raw, sizeof raw) && canonical(raw, text, sizeof text))
            push(&a->addresses, &a->n_addresses, text);
    }
    freeaddrinfo(found);
}

/* A peer's dial target (config.c): "host:port", "[v6]:port", or a list
 * "ipv4:h:p,h:p" / "ipv6:[h]:p,...". Each host is resolved and, without a
 * configured TLS name, is the name its certificate must carry. */
static void add_peer(rt_admission *a, const char *target, const char *tls_name)
{
    if (tls_name)
        push(&a->names, &a->n_names, tls_name);
    if (strncmp(target, "ipv4:", 5) == 0 || strncmp(target, "ipv6:", 5) == 0)
        target += 5;
    char *copy = strdup(target);
    if (!copy)
        abort();
    char *save = NULL;
    for (char *one = strtok_r(copy, ",", &save); one; one = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(one, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *host = one;
        if (host[0] == '[' && colon[-1] == ']') {
            host++;
            colon[-1] = '\0';
        }
        if (!tls_name)
            push(&a->names, &a->n_names, host);
        resolve(a, host);
    }
    free(copy);
}

rt_admission *rt_admission_create(const rt_config *config)
{
    rt_admission *a = calloc(1, sizeof *a);
    if (!a)
        abort();
    for (size_t i = 0; i < config->n_peers; i++)
        add_peer(a, config->peer_addresses[i], config->peer_tls_names ? config->peer_tls_names[i] : NULL);
    return a;
}

void rt_admission_destroy(rt_admission *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_names; i++)
        free(a->names[i]);
    for (size_t i = 0; i < a->n_addresses; i++)
        free(a->addresses[i]);
    free(a->names);
    free(a->addresses);
    free(a);
}

static bool named(const rt_admission *a, const char *const *sans, size_t n, bool ip)
{
    for (size_t i = 0; i < n; i++) {
        char text[INET6_ADDRSTRLEN];
        const char *san = ip && canonical(sans[i], text, sizeof text) ? text : sans[i];
        for (size_t k = 0; k < a->n_names; k++) {
            char name[INET6_ADDRSTRLEN];
            bool name_is_ip = canonical(a->names[k], name, sizeof name);
            if (name_is_ip == ip && strcasecmp(name_is_ip ? name : a->names[k], san) == 0)
                return true;
        }
    }
    return false;
}

/* The host of the core's peer string: "ipv4:1.2.3.4:5", "ipv6:[::1]:5",
 * or URI-escaped as newer cores write it, "ipv6:%5B::1%5D:5". */
static bool peer_host(const char *peer, char *out, size_t size)
{
    const char *host, *end;
    size_t len;
    if (strncmp(peer, "ipv4:", 5) == 0) {
        host = peer + 5;
        const char *colon = strrchr(host, ':');
        len = colon ? (size_t)(colon - host) : strlen(host);
    } else if (strncmp(peer, "ipv6:[", 6) == 0 || strncasecmp(peer, "ipv6:%5B", 8) == 0) {
        host = peer + (peer[5] == '[' ? 6 : 8);
        if (!(end = peer[5] == '[' ? strchr(host, ']') : strcasestr(host, "%5D")))
            return false;
        len = (size_t)(end - host);
        const char *zone = memchr(host, '%', len); /* "fe80::1%25eth0": the zone is not the address */
        if (zone)
            len = (size_t)(zone - host);
    } else {
        return false;
    }
    if (len == 0 || len >= size)
        return false;
    memcpy(out, host, len);
    out[len] = '\0';
    return true;
}

bool rt_admission_matches(const rt_admission *a, bool has_cert, const char *const *dns_sans, size_t n_dns,
                          const char *const *ip_sans, size_t n_ip, const char *peer)
{
    if (has_cert)
        return named(a, dns_sans, n_dns, false) || named(a, ip_sans, n_ip, true);
    char host[INET6_ADDRSTRLEN + 8], text[INET6_ADDRSTRLEN];
    if (!peer || !peer_host(peer, host, sizeof host) || !canonical(host, text, sizeof text))
        return false;
    for (size_t i = 0; i < a->n_addresses; i++)
        if (strcmp(a->addresses[i], text) == 0)
            return true;
    return false;
}

/* Every value of one auth-context property, up to max (gpr-owned strings
 * are the context's: valid while it is held). */
static size_t values_of(const grpc_auth_context *ctx, const char *name, const char **out, size_t max)
{
    size_t n = 0;
    grpc_auth_property_iterator it = grpc_auth_context_find_properties_by_name(ctx, name);
    const grpc_auth_property *p;
    while (n < max && (p = grpc_auth_property_iterator_next(&it)) != NULL)
        if (p->value && memchr(p->value, '\0', p->value_length + 1) == p->value + p->value_length)
            out[n++] = p->value;
    return n;
}

bool rt_admission_from_peer(const rt_admission *a, grpc_call *call)
{
    enum { MAX_SANS = 32 };
    const char *dns[MAX_SANS] = {0}, *ip[MAX_SANS] = {0};
    size_t n_dns = 0, n_ip = 0;
    bool has_cert = false;
    grpc_auth_context *ctx = grpc_call_auth_context(call);
    if (ctx) {
        grpc_auth_property_iterator pem =
            grpc_auth_context_find_properties_by_name(ctx, GRPC_X509_PEM_CERT_PROPERTY_NAME);
        has_cert = grpc_auth_property_iterator_next(&pem) != NULL; /* presented, hence verified (tls.c) */
        if (has_cert) {
            n_dns = values_of(ctx, GRPC_PEER_DNS_PROPERTY_NAME, dns, MAX_SANS);
            n_ip = values_of(ctx, GRPC_PEER_IP_PROPERTY_NAME, ip, MAX_SANS);
        }
    }
    char *peer = has_cert ? NULL : grpc_call_get_peer(call);
    bool from_peer = rt_admission_matches(a, has_cert, dns, n_dns, ip, n_ip, peer);
    gpr_free(peer);
    if (ctx)
        grpc_auth_context_release(ctx);
    return from_peer;
}
