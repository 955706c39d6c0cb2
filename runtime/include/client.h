/* Service-to-service unary calls over one long-lived channel per peer. The
 * caller's deadline, cancellation and request id travel with the call. */
#ifndef RT_CLIENT_H
#define RT_CLIENT_H

#include "service.h"

/* Calls method_path on the peer named service_name (one of rt_service.peers).
 * On OK, *response is decoded into the parent call's arena. A peer that is
 * down answers UNAVAILABLE; its own error statuses pass through unchanged. */
rt_status rt_client_unary(rt_call *parent, const char *service_name, const char *method_path,
                          const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *response_type,
                          ProtobufCMessage **response);

#endif
