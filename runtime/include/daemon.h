/* A daemon's main(): what the generated <service>.main.c calls with its
 * service table (service.h). Implemented by daemon.c. */
#ifndef RT_DAEMON_H
#define RT_DAEMON_H

#include "service.h"

/* The whole daemon: flags and environment, database, server, signals.
 * Returns the process exit code. */
int rt_daemon_main(const rt_service *service, int argc, char **argv);

#endif
