/* The wire walk of wire.h. One function serves both passes: without out it
 * only measures (and checks), with out it also writes. A nested message's
 * length prefix must be known before its bytes are written, so a nested
 * message that is kept is measured first: O(depth x size), and depth is
 * bounded by the types' nesting (and by RT_WIRE_MAX_DEPTH, as fibers have
 * small stacks). */
#include "wire.h"

#include <stdbool.h>
#include <string.h>

#define RT_WIRE_MAX_DEPTH 32
#define RT_WIRE_MAX_TAG 0x1FFFFFFFu

static bool get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*p == end)
            return false;
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* Writes v at out unless out is NULL; returns its length either way. */
static size_t put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t b = (uint8_t)(v & 0x7F);
        v >>= 7;
        if (out)
            out[n] = (uint8_t)(b | (v ? 0x80 : 0));
        n++;
    } while (v);
    return n;
}

/* Moves *p past one field's value of wire type wire; *value and *size are
 * the payload of a length-delimited one. */
static bool skip_value(const uint8_t **p, const uint8_t *end, unsigned wire, const uint8_t **value, uint64_t *size)
{
    uint64_t ignored;
    *value = *p;
    *size = 0;
    switch (wire) {
    case 0: return get_varint(p, end, &ignored);
    case 1:
        if (end - *p < 8)
            return false;
        *p += 8;
        return true;
    case 5:
        if (end - *p < 4)
            return false;
        *p += 4;
        return true;
    case 2:
        if (!get_varint(p, end, size) || *size > (uint64_t)(end - *p))
            return false;
        *value = *p;
        *p += *size;
        return true;
    default: return false; /* groups (3, 4) and reserved types */
    }
}

static rt_wire_result walk(const uint8_t *in, size_t len, const ProtobufCMessageDescriptor *type, uint8_t *out,
                           size_t *kept, int *unknown, rt_arena *arena, const char **nul_field, int depth)
{
    if (depth > RT_WIRE_MAX_DEPTH)
        return RT_WIRE_MALFORMED;
    const uint8_t *p = in, *end = in + len;
    size_t n = 0;
    while (p < end) {
        const uint8_t *start = p, *value;
        uint64_t key, size;
        if (!get_varint(&p, end, &key) || key >> 3 == 0 || key >> 3 > RT_WIRE_MAX_TAG)
            return RT_WIRE_MALFORMED;
        size_t key_len = (size_t)(p - start);
        unsigned wire = (unsigned)(key & 7);
        if (!skip_value(&p, end, wire, &value, &size))
            return RT_WIRE_MALFORMED;
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(type, (unsigned)(key >> 3));
        if (!f) {
            *unknown = 1;
            continue;
        }
        if (wire == 2 && f->type == PROTOBUF_C_TYPE_STRING && memchr(value, 0, (size_t)size)) {
            *nul_field = f->name;
            return RT_WIRE_NUL;
        }
        if (wire != 2 || f->type != PROTOBUF_C_TYPE_MESSAGE) {
            if (out)
                memcpy(out + n, start, (size_t)(p - start));
            n += (size_t)(p - start);
            continue;
        }
        size_t inner;
        rt_wire_result r = walk(value, (size_t)size, f->descriptor, NULL, &inner, unknown, arena, nul_field, depth + 1);
        if (r == RT_WIRE_NUL)
            *nul_field = rt_arena_printf(arena, "%s.%s", f->name, *nul_field);
        if (r != RT_WIRE_OK)
            return r;
        if (out)
            memcpy(out + n, start, key_len);
        n += key_len;
        n += put_varint(out ? out + n : NULL, inner);
        if (out)
            walk(value, (size_t)size, f->descriptor, out + n, &inner, unknown, arena, nul_field, depth + 1);
        n += inner;
    }
    *kept = n;
    return RT_WIRE_OK;
}

rt_wire_result rt_wire_scrub(const uint8_t *in, size_t len, const ProtobufCMessageDescriptor *type, uint8_t *out,
                             size_t *kept, int *unknown, rt_arena *arena, const char **nul_field)
{
    *unknown = 0;
    *kept = 0;
    *nul_field = NULL;
    return walk(in, len, type, out, kept, unknown, arena, nul_field, 0);
}
