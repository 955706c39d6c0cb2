/* One long-lived channel per peer service, created at start-up and
 * connecting lazily, so a peer that starts later is picked up and calls
 * reuse the HTTP/2 connection. */
#ifndef RT_PEERS_H
#define RT_PEERS_H

#include <grpc/grpc.h>

#include "config.h"
#include "service.h"

typedef struct rt_peers rt_peers;

rt_peers *rt_peers_create(const rt_service *service, const rt_config *config);
void rt_peers_destroy(rt_peers *peers);
/* NULL when service_name is not one of the service's peers. */
grpc_channel *rt_peers_channel(const rt_peers *peers, const char *service_name);

#endif
