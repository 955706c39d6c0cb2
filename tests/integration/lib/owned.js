// Processes a test started, and only those: a command spawned in a process
// group of its own whose descendants are tracked from /proc while it runs
// (by pid and start time, so a recycled pid is never mistaken for one of
// ours), even those that left its group or session (setsid) or were
// reparented when their parent died. stop() kills every one of them and
// closes the pipes, so a failing test always ends: no orphan keeps node's
// event loop waiting on a pipe it still holds. Never looks at processes by
// name: another checkout's daemons on the same machine are not ours.
'use strict';
const fs = require('node:fs');
const { spawn } = require('node:child_process');

// { ppid, start } of a live process, or null (gone, or never there).
function stat(pid) {
  let text;
  try { text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return null; }
  // "pid (comm) state ppid ...": comm may hold spaces and ')', split after the last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], ppid: Number(fields[1]), start: fields[19] };
}

// Every live process whose parent chain reaches one of `roots` (a Map pid ->
// start time), roots excluded; processes that vanish while scanned are skipped.
function descendantsOf(roots) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(entry);
    if (!s) continue;
    if (!children.has(s.ppid)) children.set(s.ppid, []);
    children.get(s.ppid).push({ pid: Number(entry), start: s.start });
  }
  const found = new Map();
  const queue = [...roots.keys()];
  while (queue.length) {
    for (const child of children.get(queue.shift()) || []) {
      if (found.has(child.pid) || roots.has(child.pid)) continue;
      found.set(child.pid, child.start);
      queue.push(child.pid);
    }
  }
  return found;
}

// Spawns `command args` (options as child_process.spawn's; detached is
// forced, so the command leads a process group of its own) and watches its
// process tree every `scanMs` until stop().
function spawnOwned(command, args, options = {}, scanMs = 100) {
  const child = spawn(command, args, { ...options, detached: true });
  const start = stat(child.pid);
  // pid -> start time of everything seen under the child, the child included
  const seen = new Map(start ? [[child.pid, start.start]] : []);
  const scan = () => {
    for (const [pid, s] of descendantsOf(seen)) seen.set(pid, s);
  };
  const timer = setInterval(scan, scanMs);
  timer.unref();
  scan();

  return {
    child,
    pid: child.pid,
    // Live processes it started (descendants, the command itself left out).
    descendants() {
      scan();
      return [...seen.keys()].filter((pid) => pid !== child.pid && (stat(pid) || {}).start === seen.get(pid));
    },
    // Sends `signal` to the command's process group only (as a terminal's Ctrl-C would).
    signalGroup(signal) {
      try { process.kill(-child.pid, signal); } catch { /* already gone */ }
    },
    // SIGKILL to everything it started that still runs (ours by pid and start
    // time), its process group included, then closes the pipes.
    stop() {
      scan();
      clearInterval(timer);
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
      for (const [pid, started] of seen) {
        const s = stat(pid);
        if (s && s.start === started) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ } }
      }
      for (const stream of [child.stdin, child.stdout, child.stderr]) if (stream) stream.destroy();
    },
  };
}

// Running (a zombie waiting for a parent that does not reap it counts as gone).
function alive(pid) {
  const s = stat(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

module.exports = { spawnOwned, descendantsOf, alive };
