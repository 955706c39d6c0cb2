/* Idempotency keys from the field or the metadata (idempotency.h). */
#include "idempotency.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static int ttl_seconds = RT_DEFAULT_IDEMPOTENCY_TTL_SECONDS;

void rt_idempotency_set_ttl(int seconds)
{
    ttl_seconds = seconds;
}

int rt_idempotency_ttl_seconds(void)
{
    return ttl_seconds;
}

/* The key field of request's type, or NULL when it has none. */
static const ProtobufCFieldDescriptor *key_field(const ProtobufCMessage *request)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(request->descriptor, RT_IDEMPOTENCY_FIELD);
    return f && f->type == PROTOBUF_C_TYPE_STRING && f->label != PROTOBUF_C_LABEL_REPEATED ? f : NULL;
}

static char **key_slot(const ProtobufCMessage *request, const ProtobufCFieldDescriptor *f)
{
    return (char **)((char *)request + f->offset);
}

/* The metadata value under `idempotency-key`, NUL-terminated in the arena;
 * NULL when absent. HTTP/2 lets a client put a NUL byte in a value, which
 * would cut the copy short ("key\0junk" taken as "key"): *has_nul says so,
 * and such a value is refused. */
static const char *metadata_key(rt_arena *arena, const grpc_metadata_array *md, bool *has_nul)
{
    *has_nul = false;
    for (size_t i = 0; i < md->count; i++)
        if (grpc_slice_str_cmp(md->metadata[i].key, RT_IDEMPOTENCY_METADATA) == 0) {
            const char *value = (const char *)GRPC_SLICE_START_PTR(md->metadata[i].value);
            size_t len = GRPC_SLICE_LENGTH(md->metadata[i].value);
            *has_nul = memchr(value, '\0', len) != NULL;
            return rt_arena_strndup(arena, value, len);
        }
    return NULL;
}

/* 1-128 characters from '!' to '~' or space: what a person can read in a log. */
static bool valid_key(const char *key)
{
    size_t len = strlen(key);
    if (len == 0 || len > RT_IDEMPOTENCY_KEY_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (key[i] < 0x20 || key[i] > 0x7e)
            return false;
    return true;
}

void rt_idempotency_resolve(rt_arena *arena, const grpc_metadata_array *md, ProtobufCMessage *request,
                            rt_violations *v)
{
    const ProtobufCFieldDescriptor *f = key_field(request);
    if (!f)
        return;
    char **field = key_slot(request, f);
    bool has_nul;
    const char *from_md = metadata_key(arena, md, &has_nul);
    bool in_field = *field && **field;
    if (has_nul) {
        rt_violations_add(v, RT_IDEMPOTENCY_FIELD, "must be 1-128 printable ASCII characters");
        return;
    }
    if (from_md && in_field && strcmp(from_md, *field) != 0) {
        rt_violations_add(v, RT_IDEMPOTENCY_FIELD,
                          "differs from the idempotency-key metadata; send one key, or the same in both");
        return;
    }
    if (from_md && !in_field)
        *field = (char *)from_md;
    if ((from_md || in_field) && !valid_key(*field))
        rt_violations_add(v, RT_IDEMPOTENCY_FIELD, "must be 1-128 printable ASCII characters");
}

const char *rt_idempotency_fingerprint(rt_arena *arena, const char *method, const ProtobufCMessage *request)
{
    const ProtobufCFieldDescriptor *f = key_field(request);
    char **field = f ? key_slot(request, f) : NULL;
    char *key = field ? *field : NULL;
    if (field)
        *field = (char *)""; /* packed without it, then put back */
    size_t len = protobuf_c_message_get_packed_size(request);
    uint8_t *bytes = rt_arena_alloc(arena, len + 1);
    protobuf_c_message_pack(request, bytes);
    if (field)
        *field = key;
    size_t prefix = strlen(method);
    char *text = rt_arena_alloc(arena, prefix + 1 + 2 * len + 1);
    memcpy(text, method, prefix);
    text[prefix] = ':';
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        text[prefix + 1 + 2 * i] = hex[bytes[i] >> 4];
        text[prefix + 2 + 2 * i] = hex[bytes[i] & 15];
    }
    text[prefix + 1 + 2 * len] = '\0';
    return text;
}

const char *rt_idempotency_scoped_id(rt_arena *arena, const char *caller, const char *method, const char *key)
{
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        abort();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, "operation/v1\n", 13);
    /* "a" anonymous, "c" and the identity: an empty certificate identity is not the anonymous scope. */
    EVP_DigestUpdate(ctx, caller ? "c" : "a", 1);
    if (caller)
        EVP_DigestUpdate(ctx, caller, strlen(caller));
    EVP_DigestUpdate(ctx, "", 1); /* each NUL ends a part: no part runs into the next */
    EVP_DigestUpdate(ctx, method, strlen(method) + 1);
    EVP_DigestUpdate(ctx, key, strlen(key));
    EVP_DigestFinal_ex(ctx, digest, &len);
    EVP_MD_CTX_free(ctx);
    static const char hex[] = "0123456789abcdef";
    char *id = rt_arena_alloc(arena, 4 + 2 * len + 1);
    memcpy(id, "op1-", 4);
    for (unsigned int i = 0; i < len; i++) {
        id[4 + 2 * i] = hex[digest[i] >> 4];
        id[5 + 2 * i] = hex[digest[i] & 15];
    }
    id[4 + 2 * len] = '\0';
    return id;
}
