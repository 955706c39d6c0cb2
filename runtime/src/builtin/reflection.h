/* Server reflection (grpc.reflection.v1 and v1alpha, whose messages are the
 * same bytes) answered from the generator's descriptor index, so grpcurl and
 * buf curl need no .proto files. */
#ifndef RT_REFLECTION_H
#define RT_REFLECTION_H

#include "descriptor_index.h"
#include "stream.h"

#define RT_REFLECTION_V1_PATH "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
#define RT_REFLECTION_V1ALPHA_PATH "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"

/* An rt_stream_fn: context is the const rt_descriptor_index *. */
void rt_reflection_serve(rt_stream *stream, const char *name, void *context);

#endif
