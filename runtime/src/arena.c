/* Per-call bump allocator (arena.h). Blocks are chained; the first one is
 * kept across resets so a steady-state call allocates nothing from malloc. */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RT_ARENA_ALIGN 16
/* Later blocks double up to this size; bigger requests get a block of their own. */
#define RT_ARENA_MAX_GROWTH (256 * 1024)

typedef struct rt_arena_block {
    struct rt_arena_block *next;
    size_t size;
    size_t used;
} rt_arena_block;

struct rt_arena {
    rt_arena_block *first;
    rt_arena_block *current;
    size_t next_size;
    size_t handed_out;
};

/* Header rounded up so the data that follows keeps malloc's 16-byte alignment. */
#define RT_BLOCK_HEADER ((sizeof(rt_arena_block) + RT_ARENA_ALIGN - 1) & ~(size_t)(RT_ARENA_ALIGN - 1))

static void *or_die(void *p)
{
    if (!p) {
        fputs("out of memory\n", stderr);
        abort();
    }
    return p;
}

static rt_arena_block *block_new(size_t size)
{
    if (size > SIZE_MAX - RT_BLOCK_HEADER)
        or_die(NULL);
    rt_arena_block *b = or_die(malloc(RT_BLOCK_HEADER + size));
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

rt_arena *rt_arena_new(size_t first_block_size)
{
    rt_arena *a = or_die(malloc(sizeof *a));
    if (first_block_size < RT_ARENA_ALIGN)
        first_block_size = RT_ARENA_ALIGN;
    a->first = a->current = block_new(first_block_size);
    a->next_size = first_block_size;
    a->handed_out = 0;
    return a;
}

static void free_chain(rt_arena_block *b)
{
    while (b) {
        rt_arena_block *next = b->next;
        free(b);
        b = next;
    }
}

void rt_arena_free(rt_arena *arena)
{
    if (!arena)
        return;
    free_chain(arena->first);
    free(arena);
}

void rt_arena_reset(rt_arena *arena)
{
    free_chain(arena->first->next);
    arena->first->next = NULL;
    arena->first->used = 0;
    arena->current = arena->first;
    arena->next_size = arena->first->size;
    arena->handed_out = 0;
}

void *rt_arena_alloc(rt_arena *arena, size_t size)
{
    if (size > SIZE_MAX - RT_ARENA_ALIGN)
        or_die(NULL);
    size_t rounded = size ? (size + RT_ARENA_ALIGN - 1) & ~(size_t)(RT_ARENA_ALIGN - 1) : RT_ARENA_ALIGN;
    rt_arena_block *b = arena->current;
    if (b->size - b->used < rounded) {
        if (arena->next_size < RT_ARENA_MAX_GROWTH)
            arena->next_size *= 2;
        size_t want = rounded > arena->next_size ? rounded : arena->next_size;
        rt_arena_block *fresh = block_new(want);
        /* Appended after current: the remainder of older blocks is abandoned,
         * which costs at most one block's tail per growth step. */
        fresh->next = b->next;
        b->next = fresh;
        arena->current = b = fresh;
    }
    void *p = (unsigned char *)b + RT_BLOCK_HEADER + b->used;
    b->used += rounded;
    arena->handed_out += size;
    return p;
}

void *rt_arena_zalloc(rt_arena *arena, size_t size)
{
    void *p = rt_arena_alloc(arena, size);
    memset(p, 0, size);
    return p;
}

char *rt_arena_strndup(rt_arena *arena, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = rt_arena_alloc(arena, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *rt_arena_strdup(rt_arena *arena, const char *s)
{
    return rt_arena_strndup(arena, s, strlen(s));
}

char *rt_arena_vprintf(rt_arena *arena, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int len = vsnprintf(NULL, 0, fmt, ap);
    if (len < 0)
        len = 0;
    char *p = rt_arena_alloc(arena, (size_t)len + 1);
    vsnprintf(p, (size_t)len + 1, fmt, again);
    va_end(again);
    return p;
}

char *rt_arena_printf(rt_arena *arena, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = rt_arena_vprintf(arena, fmt, ap);
    va_end(ap);
    return p;
}

size_t rt_arena_used(const rt_arena *arena)
{
    return arena->handed_out;
}

static void *pb_alloc(void *data, size_t size)
{
    return rt_arena_alloc(data, size);
}

/* protobuf-c frees message parts one by one; the arena releases them all at once. */
static void pb_free(void *data, void *pointer)
{
    (void)data;
    (void)pointer;
}

ProtobufCAllocator rt_arena_allocator(rt_arena *arena)
{
    return (ProtobufCAllocator){.alloc = pb_alloc, .free = pb_free, .allocator_data = arena};
}
