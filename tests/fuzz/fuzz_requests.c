/* Every request type of both services, through what a call does before its
 * handler (call.c: run): the wire walk and decode (codec.c, wire.c), the
 * idempotency key, the generated validator, the fingerprint. The method
 * comes from the generated tables: an input is "<method path>\n<message
 * bytes>" (tests/fuzz/make_corpus.js writes one per method from the
 * contract). A decoded message must pack and decode again to the same
 * bytes: the scrubbing of unknown fields and NUL strings leaves a message
 * protobuf-c round-trips. */
#include <grpc/byte_buffer.h>
#include <grpc/slice.h>
#include <stdio.h>

#include "codec.h"
#include "fuzz_input.h"
#include "idempotency.h"

static ProtobufCMessage *decode(rt_arena *arena, const rt_method *m, const uint8_t *data, size_t size,
                                const char **nul_field)
{
    grpc_slice slice = grpc_slice_from_copied_buffer((const char *)data, size);
    grpc_byte_buffer *payload = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    ProtobufCMessage *request = NULL;
    rt_codec_decode(arena, payload, m->request_type, &request, nul_field);
    grpc_byte_buffer_destroy(payload);
    return request;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = fuzz_take(&data, &size, '\n');
    const rt_method *m = fuzz_method_for(path);
    free(path);
    rt_arena *arena = rt_arena_new(4096);
    const char *nul_field = NULL;
    ProtobufCMessage *request = decode(arena, m, data, size, &nul_field);
    if (!request && nul_field && !*nul_field)
        abort(); /* a NUL is reported with the field's name */
    if (request) {
        size_t len = protobuf_c_message_get_packed_size(request);
        uint8_t *packed = malloc(len + 1);
        protobuf_c_message_pack(request, packed);
        ProtobufCMessage *again = decode(arena, m, packed, len, NULL);
        if (!again) {
            fprintf(stderr, "%s: a decoded request does not decode once packed\n", m->path);
            abort();
        }
        uint8_t *repacked = malloc(len + 1);
        if (protobuf_c_message_get_packed_size(again) != len ||
            memcmp(packed, repacked, protobuf_c_message_pack(again, repacked)) != 0) {
            fprintf(stderr, "%s: packing a decoded request twice differs\n", m->path);
            abort();
        }
        free(repacked);
        free(packed);
        rt_violations v = {0};
        grpc_metadata_array md;
        grpc_metadata_array_init(&md);
        rt_idempotency_resolve(arena, &md, request, &v);
        if (m->validate)
            m->validate(request, &v);
        if (v.count > RT_MAX_VIOLATIONS)
            abort();
        for (size_t i = 0; i < v.count; i++)
            if (!v.items[i].field || !v.items[i].description)
                abort();
        rt_idempotency_fingerprint(arena, m->name, request);
        grpc_metadata_array_destroy(&md);
    }
    rt_arena_free(arena);
    return 0;
}
