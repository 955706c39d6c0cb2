/* Which admission class (executor.h) a call joins. The peer service's class
 * is kept for calls the peer really makes on behalf of its callers: a call
 * gets it only when it says so (x-call-depth > 0, client.c) AND comes from
 * the peer, as the client cannot forge alone:
 * - with a verified client certificate (mutual TLS): the certificate names
 *   a peer -- a DNS SAN (an IP SAN for an address) equal to the name this
 *   daemon checks on that peer's certificate when calling it
 *   (<PEER>_TLS_NAME, else the host of <PEER>_URL);
 * - without one (plaintext, or TLS without a client certificate): the
 *   connection comes from an address a peer's host resolved to at start-up.
 * Anything else -- a header a client sends by itself -- buys no more than
 * the callers' class (SPEC, Security). */
#ifndef RT_ADMISSION_H
#define RT_ADMISSION_H

#include <grpc/grpc.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

typedef struct rt_admission rt_admission;

/* Resolves each peer's host now (getaddrinfo: start-up only); a host that
 * does not resolve is logged and matches no address. */
rt_admission *rt_admission_create(const rt_config *config);
void rt_admission_destroy(rt_admission *a);

/* Whether the call comes from a peer (above), read from its auth context
 * and its peer address. */
bool rt_admission_from_peer(const rt_admission *a, grpc_call *call);

/* The same decision on what the core reports, for tests: has_cert with the
 * certificate's DNS and IP SANs, else the call's peer string
 * ("ipv4:127.0.0.1:40000", "ipv6:[::1]:40000"; NULL when unknown). */
bool rt_admission_matches(const rt_admission *a, bool has_cert, const char *const *dns_sans, size_t n_dns,
                          const char *const *ip_sans, size_t n_ip, const char *peer);

#endif
