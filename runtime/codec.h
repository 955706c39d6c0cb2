/* Protobuf messages <-> gRPC byte buffers. Decoded messages live in the
 * call's arena, so nothing decoded ever needs freeing. */
#ifndef RT_CODEC_H
#define RT_CODEC_H

#include <grpc/byte_buffer.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "arena.h"

/* False when payload is NULL, cannot be decompressed or is not a valid
 * encoding of type; *out is then NULL. */
bool rt_codec_decode(rt_arena *arena, grpc_byte_buffer *payload,
                     const ProtobufCMessageDescriptor *type, ProtobufCMessage **out);
/* A new byte buffer holding the encoded message; the caller destroys it. */
grpc_byte_buffer *rt_codec_encode(const ProtobufCMessage *message);

#endif
