/* Message encoding for calls and peer calls (codec.h). */
#include "codec.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>
#include <stdlib.h>

#include "wire.h"

bool rt_codec_decode(rt_arena *arena, grpc_byte_buffer *payload, const ProtobufCMessageDescriptor *type,
                     ProtobufCMessage **out, const char **nul_field)
{
    *out = NULL;
    if (nul_field)
        *nul_field = NULL;
    if (!payload)
        return false;
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, payload))
        return false; /* undecompressable */
    /* One contiguous slice: protobuf-c parses a flat buffer, and copies
     * what it keeps, so the slice (and a scrubbed copy) can go right after. */
    grpc_slice flat = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    const uint8_t *data = GRPC_SLICE_START_PTR(flat);
    size_t len = GRPC_SLICE_LENGTH(flat), kept;
    int unknown;
    const char *nul;
    uint8_t *scrubbed = NULL;
    rt_wire_result checked = rt_wire_scrub(data, len, type, NULL, &kept, &unknown, arena, &nul);
    if (checked == RT_WIRE_OK && unknown) {
        scrubbed = malloc(len);
        if (!scrubbed)
            abort();
        rt_wire_scrub(data, len, type, scrubbed, &kept, &unknown, arena, &nul);
        data = scrubbed;
        len = kept;
    }
    if (checked == RT_WIRE_OK) {
        ProtobufCAllocator allocator = rt_arena_allocator(arena);
        *out = protobuf_c_message_unpack(type, &allocator, len, data);
    } else if (checked == RT_WIRE_NUL && nul_field) {
        *nul_field = nul;
    }
    free(scrubbed);
    grpc_slice_unref(flat);
    return *out != NULL;
}

grpc_byte_buffer *rt_codec_encode(const ProtobufCMessage *message)
{
    /* Packed straight into a refcounted slice: gRPC may keep it beyond the
     * batch, so it must not point into the call's arena. */
    grpc_slice slice = grpc_slice_malloc(protobuf_c_message_get_packed_size(message));
    protobuf_c_message_pack(message, GRPC_SLICE_START_PTR(slice));
    grpc_byte_buffer *buffer = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    return buffer;
}
