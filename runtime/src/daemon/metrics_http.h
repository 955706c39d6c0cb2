/* The /metrics endpoint: libmicrohttpd on an HTTP port of its own, serving
 * the registry of metrics.h from MHD's own thread, so a slow scraper never
 * holds up a gRPC call. */
#ifndef RT_METRICS_HTTP_H
#define RT_METRICS_HTTP_H

#include <stdbool.h>

#include "config.h"
#include "service.h"

typedef struct rt_metrics_http rt_metrics_http;


/* Starts counting and serving GET /metrics on config->metrics_listen; "0"
 * does neither (*out stays NULL). False, after logging why, when the
 * address cannot be bound. */
bool rt_metrics_http_start(const rt_service *service, const rt_config *config, rt_metrics_http **out);
/* Stops serving and joins MHD's thread; NULL is fine. */
void rt_metrics_http_stop(rt_metrics_http *http);

#endif
