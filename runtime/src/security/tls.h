/* Transport credentials from the config: TLS from TLS_CERT_FILE and
 * TLS_KEY_FILE, mutual TLS with TLS_CA_FILE, plaintext when neither is set
 * (drop-in for the old deployments). Certificates, keys and the CA bundle
 * are re-read every reload interval, so rotating them needs no restart. */
#ifndef RT_TLS_H
#define RT_TLS_H

#include <grpc/grpc_security.h>

#include "config.h"

/* What the daemon serves with. With a CA file, a client without a
 * certificate that CA verifies is refused in the handshake. */
grpc_server_credentials *rt_tls_server_credentials(const rt_config *config);
/* What the daemon dials its peers with: it verifies their certificate (the
 * CA file, else the system's roots) and presents its own. */
grpc_channel_credentials *rt_tls_channel_credentials(const rt_config *config);
/* Logs the one start-up warning for plaintext listening beyond loopback. */
void rt_tls_warn_if_exposed(const rt_config *config);
/* Whether host:port names a loopback address (127.0.0.0/8, ::1, localhost). */
bool rt_tls_is_loopback(const char *address);

#endif
