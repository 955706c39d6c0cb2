/* Reflection (reflection.h): one response per request until the client
 * closes. File answers carry the file and its transitive imports, requested
 * file first; unknown names answer NOT_FOUND inside the response, as the
 * protocol wants, and the stream goes on. Descriptor bytes are the embedded
 * arrays (gen/descriptor_files.c), never copied. */
#include "reflection.h"

#include <stdlib.h>
#include <string.h>

#include "grpc/reflection/v1/reflection.pb-c.h"

typedef Grpc__Reflection__V1__ServerReflectionRequest request_t;
typedef Grpc__Reflection__V1__ServerReflectionResponse response_t;

static int compare_symbol(const void *key, const void *item)
{
    return strcmp(key, *(const char *const *)item);
}

/* The file defining name, or -1. */
static long find_symbol(const rt_descriptor_index *ix, const char *name)
{
    if (name[0] == '.')
        name++;
    for (size_t i = 0; i < ix->n_files; i++) {
        const rt_descriptor_file_data *d = ix->files[i].data;
        if (bsearch(name, d->symbols, d->n_symbols, sizeof d->symbols[0], compare_symbol))
            return (long)i;
    }
    return -1;
}

static long find_file(const rt_descriptor_index *ix, const char *name)
{
    for (size_t i = 0; i < ix->n_files; i++)
        if (strcmp(ix->files[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* Depth-first over imports, each file once, requested file first. */
static void add_closure(const rt_descriptor_index *ix, size_t file, bool *seen,
                        Grpc__Reflection__V1__FileDescriptorResponse *out)
{
    if (seen[file])
        return;
    seen[file] = true;
    const rt_descriptor_file *f = &ix->files[file];
    out->file_descriptor_proto[out->n_file_descriptor_proto++] =
        (ProtobufCBinaryData){.len = f->data->length, .data = (uint8_t *)f->data->bytes};
    for (size_t i = 0; i < f->n_deps; i++)
        add_closure(ix, ix->deps[f->first_dep + i], seen, out);
}

static void answer_files(rt_arena *arena, const rt_descriptor_index *ix, size_t file, response_t *resp)
{
    Grpc__Reflection__V1__FileDescriptorResponse *files = rt_arena_alloc(arena, sizeof *files);
    grpc__reflection__v1__file_descriptor_response__init(files);
    files->file_descriptor_proto = rt_arena_alloc(arena, ix->n_files * sizeof *files->file_descriptor_proto);
    bool *seen = rt_arena_zalloc(arena, ix->n_files * sizeof *seen);
    add_closure(ix, file, seen, files);
    resp->message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
    resp->file_descriptor_response = files;
}

static void answer_error(rt_arena *arena, grpc_status_code code, char *message, response_t *resp)
{
    Grpc__Reflection__V1__ErrorResponse *e = rt_arena_alloc(arena, sizeof *e);
    grpc__reflection__v1__error_response__init(e);
    e->error_code = code;
    e->error_message = message;
    resp->message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
    resp->error_response = e;
}

static void answer_services(rt_arena *arena, const rt_descriptor_index *ix, response_t *resp)
{
    Grpc__Reflection__V1__ListServiceResponse *list = rt_arena_alloc(arena, sizeof *list);
    grpc__reflection__v1__list_service_response__init(list);
    list->service = rt_arena_alloc(arena, ix->n_services * sizeof *list->service);
    for (size_t i = 0; i < ix->n_services; i++) {
        Grpc__Reflection__V1__ServiceResponse *s = rt_arena_alloc(arena, sizeof *s);
        grpc__reflection__v1__service_response__init(s);
        s->name = (char *)ix->services[i];
        list->service[list->n_service++] = s;
    }
    resp->message_response_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
    resp->list_services_response = list;
}

static void answer_extension_numbers(rt_arena *arena, const rt_descriptor_index *ix, const char *type,
                                     response_t *resp)
{
    if (type[0] == '.')
        type++;
    if (find_symbol(ix, type) < 0) {
        answer_error(arena, GRPC_STATUS_NOT_FOUND, rt_arena_printf(arena, "unknown type %s", type), resp);
        return;
    }
    Grpc__Reflection__V1__ExtensionNumberResponse *nums = rt_arena_alloc(arena, sizeof *nums);
    grpc__reflection__v1__extension_number_response__init(nums);
    nums->base_type_name = (char *)type;
    size_t n = 0;
    for (size_t i = 0; i < ix->n_files; i++)
        n += ix->files[i].data->n_extensions;
    nums->extension_number = rt_arena_alloc(arena, (n + 1) * sizeof *nums->extension_number);
    for (size_t i = 0; i < ix->n_files; i++) {
        const rt_descriptor_file_data *d = ix->files[i].data;
        for (size_t k = 0; k < d->n_extensions; k++)
            if (strcmp(d->extensions[k].extendee, type) == 0)
                nums->extension_number[nums->n_extension_number++] = d->extensions[k].number;
    }
    resp->message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE;
    resp->all_extension_numbers_response = nums;
}

static long find_extension(const rt_descriptor_index *ix, const Grpc__Reflection__V1__ExtensionRequest *x)
{
    const char *type = x->containing_type[0] == '.' ? x->containing_type + 1 : x->containing_type;
    for (size_t i = 0; i < ix->n_files; i++) {
        const rt_descriptor_file_data *d = ix->files[i].data;
        for (size_t k = 0; k < d->n_extensions; k++)
            if (d->extensions[k].number == x->extension_number && strcmp(d->extensions[k].extendee, type) == 0)
                return (long)i;
    }
    return -1;
}

static void answer(rt_arena *arena, const rt_descriptor_index *ix, request_t *req, response_t *resp)
{
    resp->valid_host = req->host;
    resp->original_request = req;
    long file = -1;
    const char *what = NULL;
    switch (req->message_request_case) {
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
        file = find_file(ix, req->file_by_filename);
        what = rt_arena_printf(arena, "file %s", req->file_by_filename);
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL: {
        file = find_symbol(ix, req->file_containing_symbol);
        what = rt_arena_printf(arena, "symbol %s", req->file_containing_symbol);
        break;
    }
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION:
        file = find_extension(ix, req->file_containing_extension);
        what = rt_arena_printf(arena, "extension %d of %s", req->file_containing_extension->extension_number,
                               req->file_containing_extension->containing_type);
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
        answer_extension_numbers(arena, ix, req->all_extension_numbers_of_type, resp);
        return;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
        answer_services(arena, ix, resp);
        return;
    default:
        answer_error(arena, GRPC_STATUS_INVALID_ARGUMENT, "no request in the message", resp);
        return;
    }
    if (file < 0)
        answer_error(arena, GRPC_STATUS_NOT_FOUND, rt_arena_printf(arena, "unknown %s", what), resp);
    else
        answer_files(arena, ix, (size_t)file, resp);
}

void rt_reflection_serve(rt_stream *stream, const char *name, void *context)
{
    (void)name;
    const rt_descriptor_index *ix = context;
    for (;;) {
        rt_arena_reset(stream->arena);
        ProtobufCMessage *msg;
        switch (rt_stream_recv(stream, &grpc__reflection__v1__server_reflection_request__descriptor, &msg)) {
        case RT_STREAM_END:
            rt_stream_finish(stream, GRPC_STATUS_OK, NULL);
            return;
        case RT_STREAM_BROKEN:
            if (!stream->closed)
                rt_stream_finish(stream, GRPC_STATUS_INVALID_ARGUMENT, "not a ServerReflectionRequest");
            return;
        case RT_STREAM_MESSAGE:
            break;
        }
        response_t resp = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__INIT;
        answer(stream->arena, ix, (request_t *)msg, &resp);
        if (!rt_stream_send(stream, &resp.base))
            return;
    }
}
