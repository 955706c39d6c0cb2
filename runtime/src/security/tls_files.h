/* The daemon's TLS files as the core reads them: in-memory copies (memfd)
 * of TLS_CERT_FILE, TLS_KEY_FILE and TLS_CA_FILE, replaced whole, and only
 * by content that holds PEM. libgrpc 1.51's file watcher aborts the process
 * when it reads an empty key, which a file truncated and rewritten in place
 * hands it for a moment; the core reads the copies instead, so it never
 * sees a half-written or empty file. */
#ifndef RT_TLS_FILES_H
#define RT_TLS_FILES_H

#include <stddef.h>

#include "config.h"

typedef struct rt_tls_files rt_tls_files;

/* Copies the configured files and points config at the copies
 * ("/proc/self/fd/N"); each interval, a changed original is copied again.
 * Without TLS settings it copies nothing. NULL with error set when a file
 * holds no PEM. Start it after the signal mask: it runs a thread. */
rt_tls_files *rt_tls_files_open(rt_config *config, char *error, size_t error_size);
/* Stops watching and drops the copies; NULL is ignored. */
void rt_tls_files_close(rt_tls_files *files);

#endif
