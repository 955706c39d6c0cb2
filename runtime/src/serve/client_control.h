/* The daemon's hold on peer calls in flight (client.c), beside
 * db_control.h's on statements: a drain that runs out of time ends both, so
 * that handlers answer their own calls. */
#ifndef RT_CLIENT_CONTROL_H
#define RT_CLIENT_CONTROL_H

/* Cancels every peer call in flight (their handlers see CANCELLED), and
 * refuses any started from now on. Any thread. */
void rt_client_interrupt_all(void);

#endif
