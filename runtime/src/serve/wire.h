/* A look at a message's wire bytes before protobuf-c decodes them, for the
 * two things protobuf-c gets wrong for a server:
 * - a string field holding a NUL byte decodes to a C string that ends
 *   early, so validators (which use strlen) would pass "<uuid>\0junk";
 * - fields the type does not declare are kept, each in a struct of its
 *   own in the call's arena: 2-byte unknown fields cost ~18 times their
 *   size. They are dropped instead (a server never re-sends a request).
 * Walks nested messages through the descriptor; groups are refused. */
#ifndef RT_WIRE_H
#define RT_WIRE_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

typedef enum {
    RT_WIRE_OK,        /* well formed; see *unknown */
    RT_WIRE_MALFORMED, /* not a protobuf encoding */
    RT_WIRE_NUL,       /* a string field holds a NUL byte: *nul_field names it */
} rt_wire_result;

/* Walks in[len] as type. On OK, *kept is the length of the same message
 * without unknown fields and *unknown says whether there were any; when
 * out is not NULL (at least len bytes) that message is written to it. On
 * NUL, *nul_field is the field's path ("user_id", "from.user_id") in arena. */
rt_wire_result rt_wire_scrub(const uint8_t *in, size_t len, const ProtobufCMessageDescriptor *type, uint8_t *out,
                             size_t *kept, int *unknown, rt_arena *arena, const char **nul_field);

#endif
