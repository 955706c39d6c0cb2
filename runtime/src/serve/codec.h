/* Protobuf messages <-> gRPC byte buffers. Decoded messages live in the
 * call's arena, so nothing decoded ever needs freeing. Decoding drops
 * fields the type does not declare and refuses strings holding a NUL
 * byte (wire.h says why). */
#ifndef RT_CODEC_H
#define RT_CODEC_H

#include <grpc/byte_buffer.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "arena.h"

/* False when payload is NULL, cannot be decompressed or is not a valid
 * encoding of type; *out is then NULL. When a string field holds a NUL
 * byte it is false too, and *nul_field (unless nul_field is NULL) names
 * the field; otherwise *nul_field is NULL. */
bool rt_codec_decode(rt_arena *arena, grpc_byte_buffer *payload, const ProtobufCMessageDescriptor *type,
                     ProtobufCMessage **out, const char **nul_field);
/* A new byte buffer holding the encoded message; the caller destroys it. */
grpc_byte_buffer *rt_codec_encode(const ProtobufCMessage *message);

#endif
