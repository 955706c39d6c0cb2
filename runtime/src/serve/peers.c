/* Peer channels (peers.h). */
#include "peers.h"

#include <grpc/grpc_security.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"

struct rt_peers {
    size_t n;
    const rt_endpoint *endpoints;
    grpc_channel **channels;
};

rt_peers *rt_peers_create(const rt_service *service, const rt_config *config)
{
    rt_peers *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->n = service->n_peers;
    p->endpoints = service->peers;
    p->channels = calloc(p->n ? p->n : 1, sizeof *p->channels);
    if (!p->channels)
        abort();
    /* Same message limit as the server: a peer's answer is one of ours.
     * Reconnection backoff is kept short (100 ms up to 500 ms instead of
     * 1 s up to 120 s) so a restarted peer is used again within the connect
     * budget of client.c, not minutes later. */
    grpc_arg args[] = {
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, .value.integer = 100},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, .value.integer = 100},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, .value.integer = 500},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
         .value.integer = config->max_message_bytes},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH,
         .value.integer = config->max_message_bytes},
        /* Several replicas of a peer (a list, config.c, or a DNS name with
         * several records): calls are spread round robin over the connected
         * ones, so a dead replica is skipped instead of failing every call
         * the default pick_first would send it. */
        {.type = GRPC_ARG_STRING, .key = GRPC_ARG_SERVICE_CONFIG,
         .value.string = "{\"loadBalancingConfig\":[{\"round_robin\":{}}]}"},
        {0}, /* the peer's TLS name, per channel */
    };
    size_t n_args = sizeof args / sizeof args[0];
    grpc_channel_args channel_args = {.num_args = n_args - 1, .args = args};
    grpc_channel_credentials *creds = rt_tls_channel_credentials(config);
    for (size_t i = 0; i < p->n; i++) {
        /* The peer's TLS name, when set, is what its certificate must name
         * instead of the dialled host (tls.c). */
        args[n_args - 1] = (grpc_arg){.type = GRPC_ARG_STRING, .key = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG,
                                      .value.string = config->peer_tls_names[i]};
        channel_args.num_args = n_args - (config->peer_tls_names[i] ? 0 : 1);
        p->channels[i] = grpc_channel_create(config->peer_addresses[i], creds, &channel_args);
    }
    grpc_channel_credentials_release(creds);
    return p;
}

void rt_peers_destroy(rt_peers *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        grpc_channel_destroy(p->channels[i]);
    free(p->channels);
    free(p);
}

grpc_channel *rt_peers_channel(const rt_peers *p, const char *service_name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->endpoints[i].service_name, service_name) == 0)
            return p->channels[i];
    return NULL;
}
