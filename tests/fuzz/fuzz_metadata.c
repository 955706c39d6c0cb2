/* The metadata a caller sends that the runtime reads itself: the
 * idempotency key (field or `idempotency-key` metadata, idempotency.c),
 * `x-request-id` (call.c) and W3C `traceparent`/`tracestate` (trace.c).
 * An input is the request's idempotency_key field, a NUL, then metadata
 * pairs "key NUL value 0xff" (a value may hold NUL bytes, as HTTP/2 lets a
 * peer send). Whatever is accepted as a key is exactly what was sent (no
 * silent cut at a NUL) and is 1-128 printable characters; a request id is
 * always 1-128 visible characters; a call always has a non-zero trace id,
 * and the traceparent it sends on is well formed and carries it. */
#include <grpc/slice.h>
#include <stdio.h>

#include "call.h"
#include "fuzz_input.h"
#include "idempotency.h"
#include "trace.h"

#define MAX_PAIRS 8

/* The next NUL-separated part, as a slice (it may itself hold no NUL). */
static grpc_slice next_part(const uint8_t **data, size_t *size)
{
    const uint8_t *end = memchr(*data, '\0', *size);
    size_t n = end ? (size_t)(end - *data) : *size;
    grpc_slice s = grpc_slice_from_copied_buffer((const char *)*data, n);
    *data += n + (end != NULL);
    *size -= n + (end != NULL);
    return s;
}

static bool printable_key(const char *key, size_t len)
{
    if (len == 0 || len > RT_IDEMPOTENCY_KEY_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (key[i] < 0x20 || key[i] > 0x7e)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *field = fuzz_take(&data, &size, '\0');
    grpc_metadata items[MAX_PAIRS];
    grpc_metadata_array md = {.count = 0, .capacity = MAX_PAIRS, .metadata = items};
    while (size > 0 && md.count < MAX_PAIRS) {
        items[md.count].key = next_part(&data, &size);
        const uint8_t *end = memchr(data, 0xff, size);
        size_t n = end ? (size_t)(end - data) : size;
        items[md.count].value = grpc_slice_from_copied_buffer((const char *)data, n);
        data += n + (end != NULL);
        size -= n + (end != NULL);
        md.count++;
    }
    rt_arena *arena = rt_arena_new(1024);
    for (size_t i = 0; i < fuzz_method_count(); i++) {
        const rt_method *m = fuzz_method_at(i);
        ProtobufCMessage *request = rt_arena_zalloc(arena, m->request_type->sizeof_message);
        m->request_type->message_init(request);
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(m->request_type, RT_IDEMPOTENCY_FIELD);
        char **slot = f ? (char **)((char *)request + f->offset) : NULL;
        if (slot)
            *slot = field;
        rt_violations v = {0};
        rt_idempotency_resolve(arena, &md, request, &v);
        if (!slot || v.count)
            continue;
        /* Accepted: the key is printable, and is all of what was sent. */
        if (**slot && !printable_key(*slot, strlen(*slot)))
            abort();
        for (size_t k = 0; k < md.count; k++)
            if (grpc_slice_str_cmp(items[k].key, RT_IDEMPOTENCY_METADATA) == 0) {
                if (GRPC_SLICE_LENGTH(items[k].value) != strlen(*slot) ||
                    memcmp(GRPC_SLICE_START_PTR(items[k].value), *slot, strlen(*slot)) != 0) {
                    fprintf(stderr, "accepted key '%s' is not the metadata value sent\n", *slot);
                    abort();
                }
                break;
            }
    }
    char id[RT_REQUEST_ID_MAX + 1];
    rt_request_id_of(&md, id);
    size_t len = strlen(id);
    if (len == 0 || len > RT_REQUEST_ID_MAX)
        abort();
    for (size_t i = 0; i < len; i++)
        if (id[i] <= 0x20 || id[i] >= 0x7f)
            abort();
    rt_trace trace;
    rt_trace_begin(&trace, &md);
    static const uint8_t zero[16];
    char child[RT_TRACEPARENT_LEN + 1];
    uint8_t span[8];
    rt_trace_child(&trace, span, child);
    if (strlen(trace.trace_hex) != 32 || strspn(trace.trace_hex, "0123456789abcdef") != 32 ||
        memcmp(trace.trace_id, zero, 16) == 0 || strlen(child) != RT_TRACEPARENT_LEN ||
        strncmp(child, "00-", 3) != 0 || strncmp(child + 3, trace.trace_hex, 32) != 0)
        abort();
    for (size_t k = 0; k < md.count; k++) {
        grpc_slice_unref(items[k].key);
        grpc_slice_unref(items[k].value);
    }
    rt_arena_free(arena);
    free(field);
    return 0;
}
