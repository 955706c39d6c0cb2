/* The descriptors a daemon serves through reflection, indexed at generation
 * time so the daemon answers reflection without parsing descriptors. What a
 * proto file contributes (its bytes, the symbols and extensions it defines)
 * is emitted once for all daemons (gen/descriptor_files.c); each daemon's
 * index (gen/<p>.descriptor.c) lists the files it serves and their imports. */
#ifndef RT_DESCRIPTOR_INDEX_H
#define RT_DESCRIPTOR_INDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *extendee; /* "google.protobuf.FieldOptions" */
    int32_t number;
} rt_descriptor_extension;

typedef struct {
    const uint8_t *bytes; /* its serialized FileDescriptorProto */
    size_t length;
    /* Full names without the leading dot ("user.UserService.CreateUser"),
     * sorted by strcmp. */
    const char *const *symbols;
    size_t n_symbols;
    const rt_descriptor_extension *extensions;
    size_t n_extensions;
} rt_descriptor_file_data;

typedef struct {
    const char *name; /* "user.proto", "google/rpc/status.proto" */
    const rt_descriptor_file_data *data;
    size_t first_dep; /* its imports: deps[first_dep .. first_dep + n_deps) */
    size_t n_deps;
} rt_descriptor_file;

typedef struct {
    const rt_descriptor_file *files;
    size_t n_files;
    const size_t *deps; /* file indexes */
    const char *const *services; /* what list_services answers */
    size_t n_services;
} rt_descriptor_index;

#endif
