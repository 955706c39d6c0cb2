/* Per-call bump allocator. Everything a call decodes, builds or formats lives
 * in one arena that is reset when the call ends, so handlers never free and a
 * failed call cannot leak. It also serves protobuf-c as its allocator. */
#ifndef RT_ARENA_H
#define RT_ARENA_H

#include <stdarg.h>
#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

typedef struct rt_arena rt_arena;

rt_arena *rt_arena_new(size_t first_block_size);
void rt_arena_free(rt_arena *arena);
/* Releases everything allocated since creation but keeps the first block. */
void rt_arena_reset(rt_arena *arena);
/* 16-byte aligned; aborts the process on out-of-memory like malloc-or-die. */
void *rt_arena_alloc(rt_arena *arena, size_t size);
void *rt_arena_zalloc(rt_arena *arena, size_t size);
char *rt_arena_strdup(rt_arena *arena, const char *s);
char *rt_arena_strndup(rt_arena *arena, const char *s, size_t n);
char *rt_arena_printf(rt_arena *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *rt_arena_vprintf(rt_arena *arena, const char *fmt, va_list ap);
/* Bytes currently handed out, for tests and metrics. */
size_t rt_arena_used(const rt_arena *arena);
/* A protobuf-c allocator whose free is a no-op: the arena owns the memory. */
ProtobufCAllocator rt_arena_allocator(rt_arena *arena);

#endif
