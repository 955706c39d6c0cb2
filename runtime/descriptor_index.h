/* The descriptors a daemon serves through reflection, indexed at generation
 * time (gen/<p>.descriptor.c): each file's bytes (gen/descriptor_files.c),
 * its imports, and every symbol and extension it defines,
 * so the daemon answers reflection without parsing descriptors. */
#ifndef RT_DESCRIPTOR_INDEX_H
#define RT_DESCRIPTOR_INDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;     /* "user.proto", "google/rpc/status.proto" */
    const uint8_t *bytes; /* its serialized FileDescriptorProto */
    size_t length;
    size_t first_dep; /* its imports: deps[first_dep .. first_dep + n_deps) */
    size_t n_deps;
} rt_descriptor_file;

typedef struct {
    const char *name; /* full name without the leading dot: "user.UserService.CreateUser" */
    size_t file;
} rt_descriptor_symbol;

typedef struct {
    const char *extendee; /* "google.protobuf.FieldOptions" */
    int32_t number;
    size_t file;
} rt_descriptor_extension;

typedef struct {
    const rt_descriptor_file *files;
    size_t n_files;
    const size_t *deps; /* file indexes */
    const rt_descriptor_symbol *symbols; /* sorted by strcmp of name */
    size_t n_symbols;
    const rt_descriptor_extension *extensions;
    size_t n_extensions;
    const char *const *services; /* what list_services answers */
    size_t n_services;
} rt_descriptor_index;

#endif
