/* Transport credentials (tls.h). Both sides use the core's file watcher
 * provider: it reads the files at start-up and every reload interval, and
 * each new handshake uses what it last read successfully, so a rotated
 * certificate is served from the next connection on while connections
 * already open keep theirs. The paths it watches are tls_files.c's copies
 * of the configured files. */
#include "tls.h"

#include <string.h>

#include "log.h"

/* Watches the daemon's own key pair and, when given, the CA bundle. */
static grpc_tls_credentials_options *watched_options(const rt_config *c)
{
    grpc_tls_certificate_provider *provider = grpc_tls_certificate_provider_file_watcher_create(
        c->tls_key_file, c->tls_cert_file, c->tls_ca_file, (unsigned)c->reload_seconds);
    grpc_tls_credentials_options *options = grpc_tls_credentials_options_create();
    grpc_tls_credentials_options_set_certificate_provider(options, provider); /* takes a ref */
    grpc_tls_certificate_provider_release(provider);
    grpc_tls_credentials_options_watch_identity_key_cert_pairs(options);
    if (c->tls_ca_file)
        grpc_tls_credentials_options_watch_root_certs(options);
    return options;
}

grpc_server_credentials *rt_tls_server_credentials(const rt_config *c)
{
    if (!c->tls_cert_file)
        return grpc_insecure_server_credentials_create();
    grpc_tls_credentials_options *options = watched_options(c);
    grpc_tls_credentials_options_set_cert_request_type(
        options, c->tls_ca_file ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    return grpc_tls_server_credentials_create(options);
}

/* Without a verifier of our own the core verifies the chain and then the
 * peer's name: the dialled host, or the peer's TLS name (peers.c) when one
 * is configured, so a peer showing another service's certificate fails. */
grpc_channel_credentials *rt_tls_channel_credentials(const rt_config *c)
{
    if (!c->tls_cert_file)
        return grpc_insecure_credentials_create();
    grpc_tls_credentials_options *options = watched_options(c);
    grpc_tls_credentials_options_set_verify_server_cert(options, 1);
    return grpc_tls_credentials_create(options);
}

bool rt_tls_is_loopback(const char *address)
{
    static const char *const prefixes[] = {"127.", "localhost:", "[::1]:"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(address, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

void rt_tls_warn_if_exposed(const rt_config *c)
{
    if (!c->tls_cert_file && !rt_tls_is_loopback(c->listen))
        rt_log_with(RT_LOG_WARN, &(rt_log_fields){.address = c->listen},
                    "serving plaintext beyond loopback: anyone who reaches this port can call "
                    "every method; set TLS_CERT_FILE, TLS_KEY_FILE and TLS_CA_FILE "
                    "(docs/security.md)");
}
