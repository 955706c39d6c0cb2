/* Polling files for changes: a thread that runs a function every N seconds,
 * and the test of whether a file changed since last seen. Polling rather
 * than inotify: it sees renames into place, symlink swaps (Kubernetes
 * secrets) and edits in place alike, and costs one stat per file. */
#ifndef RT_FILE_WATCH_H
#define RT_FILE_WATCH_H

#include <stdbool.h>
#include <sys/stat.h>

typedef struct rt_ticker rt_ticker;

/* Calls fn(arg) every seconds on a thread named name until stopped. */
rt_ticker *rt_ticker_start(int seconds, const char *name, void (*fn)(void *arg), void *arg);
/* Stops the thread (waiting for a call in progress); NULL is ignored. */
void rt_ticker_stop(rt_ticker *ticker);

/* Whether path's inode, size or times differ from *seen (a file that cannot
 * be stat'ed counts as all zeros); *seen is updated either way. */
bool rt_file_changed(const char *path, struct stat *seen);

#endif
