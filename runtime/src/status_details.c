/* Building google.rpc.Status details (status_details.h); every message is
 * built in the call's arena and only the final bytes leave it. */
#include "status_details.h"

#include "google/protobuf/any.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"

static ProtobufCBinaryData pack(rt_arena *arena, const ProtobufCMessage *m)
{
    ProtobufCBinaryData out = {.len = protobuf_c_message_get_packed_size(m)};
    out.data = rt_arena_alloc(arena, out.len ? out.len : 1);
    protobuf_c_message_pack(m, out.data);
    return out;
}

grpc_slice rt_status_details_bad_request(rt_arena *arena, grpc_status_code code, const char *message,
                                         const rt_violations *v)
{
    Google__Rpc__BadRequest bad = GOOGLE__RPC__BAD_REQUEST__INIT;
    bad.field_violations = rt_arena_alloc(arena, (v->count ? v->count : 1) * sizeof *bad.field_violations);
    for (size_t i = 0; i < v->count; i++) {
        Google__Rpc__BadRequest__FieldViolation *fv = rt_arena_alloc(arena, sizeof *fv);
        google__rpc__bad_request__field_violation__init(fv);
        fv->field = (char *)v->items[i].field;
        fv->description = (char *)v->items[i].description;
        bad.field_violations[bad.n_field_violations++] = fv;
    }
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    any.type_url = RT_BAD_REQUEST_TYPE_URL;
    any.value = pack(arena, &bad.base);
    Google__Protobuf__Any *details[] = {&any};
    Google__Rpc__Status status = GOOGLE__RPC__STATUS__INIT;
    status.code = (int32_t)code;
    status.message = (char *)(message ? message : "");
    status.n_details = 1;
    status.details = details;
    ProtobufCBinaryData bytes = pack(arena, &status.base);
    return grpc_slice_from_copied_buffer((const char *)bytes.data, bytes.len);
}
