/* A debugger's stall of one thread (tests only): `thread_stall TID MS`
 * stops thread TID the way gdb does (PTRACE_SEIZE + PTRACE_INTERRUPT, the
 * rest of the process keeps running), says "stopped", holds it MS
 * milliseconds, then lets it go (PTRACE_DETACH) and says "resumed". If the
 * helper dies first, the kernel detaches the thread, so a failing test
 * never leaves a daemon frozen. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: thread_stall TID MS\n");
        return 2;
    }
    pid_t tid = (pid_t)atoi(argv[1]);
    long ms = atol(argv[2]);
    if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0 || ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0) {
        perror("thread_stall: ptrace");
        return 1;
    }
    int status;
    if (waitpid(tid, &status, __WALL) != tid) {
        perror("thread_stall: waitpid");
        return 1;
    }
    printf("stopped\n");
    fflush(stdout);
    struct timespec hold = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&hold, &hold) != 0 && errno == EINTR)
        ;
    if (ptrace(PTRACE_DETACH, tid, NULL, NULL) != 0) {
        perror("thread_stall: detach");
        return 1;
    }
    printf("resumed\n");
    fflush(stdout);
    return 0;
}
