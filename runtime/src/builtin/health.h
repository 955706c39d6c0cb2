/* grpc.health.v1.Health: SERVING while the database answers and the daemon
 * is not draining, NOT_SERVING otherwise. A thread pings the database every
 * second (PQping: no session, no authentication), so the answer never waits
 * on the database and costs the calls' sessions nothing. One per process. */
#ifndef RT_HEALTH_H
#define RT_HEALTH_H

#include "service.h"
#include "stream.h"

#define RT_HEALTH_WATCH_PATH "/grpc.health.v1.Health/Watch"

/* The unary Check, served by the serving loop like the service's methods. */
extern const rt_method rt_health_check_method;

/* Starts probing database_url; service_name is the name Check knows besides "". */
void rt_health_start(const char *service_name, const char *database_url);
/* NOT_SERVING from now on; Watch streams report it and end. */
void rt_health_drain(void);
/* Stops the probe thread (after every Watch ended). */
void rt_health_stop(void);

/* An rt_stream_fn for Watch; context unused. */
void rt_health_watch(rt_stream *stream, const char *name, void *context);

#endif
