/* systemd's readiness and watchdog protocol (sd_notify(3)), spoken over the
 * documented datagram socket ($NOTIFY_SOCKET) without linking libsystemd:
 * READY=1 once the daemon listens with its statements prepared, STATUS=
 * lines an operator sees in `systemctl status`, STOPPING=1 when a drain
 * begins, and WATCHDOG=1 pings from the serving loop (executor.c),
 * the loop that serves every call: a frozen loop stops the pings and
 * systemd restarts the daemon (WatchdogSec=), while a slow or unreachable
 * database does not, since no statement ever blocks that loop.
 * Without NOTIFY_SOCKET every function does nothing. */
#ifndef RT_SD_NOTIFY_H
#define RT_SD_NOTIFY_H

/* Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (the pings are for
 * this process only); before any thread that notifies starts. */
void rt_sd_init(void);
/* Sends one datagram of newline-separated assignments ("READY=1\nSTATUS=
 * serving"); never blocks (any thread). */
void rt_sd_notify(const char *state);
/* From the serving loop, every turn: sends WATCHDOG=1 when half of
 * WATCHDOG_USEC has passed since the last ping. Returns the ms until the
 * next ping is due, the most the loop may sleep (-1: no watchdog). */
int rt_sd_watchdog_tick(void);
/* Releases the socket. */
void rt_sd_close(void);

#endif
