// Bookkeeping of what the e2e helpers start, so that nothing outlives the test process: every
// child runs in its own process group and is killed as a group; temp folders are removed. A
// last-resort hook kills whatever is left when the process exits or is interrupted (a test
// that times out or a Ctrl-C), because an orphaned code-server would hold its port and CPU.
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { rmSync } from 'node:fs';

const liveGroups = new Set<number>();
const liveDirs = new Set<string>();
let hooksInstalled = false;

function killGroupNow(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function lastResort(): void {
  for (const pid of liveGroups) killGroupNow(pid, 'SIGKILL');
  liveGroups.clear();
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', lastResort);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      lastResort();
      process.kill(process.pid, sig);
    });
  }
}

/** Spawns `cmd` as the leader of a new process group, tracked until `stopGroup`. */
export function spawnGroup(cmd: string, args: string[], options: SpawnOptions): ChildProcess {
  installHooks();
  const child = spawn(cmd, args, { ...options, detached: true });
  // The group outlives its leader when a grandchild (extension host, pty host) lingers, so
  // the group stays tracked until stopGroup, not until the leader exits.
  if (child.pid !== undefined) liveGroups.add(child.pid);
  return child;
}

/**
 * SIGTERM to the whole group, SIGKILL after `graceMs` if the leader has not exited; then a
 * SIGKILL to the group anyway so that no grandchild survives its parent.
 */
export async function stopGroup(child: ChildProcess, graceMs = 5_000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroupNow(pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([exited, timedOut]);
    clearTimeout(timer);
  }
  killGroupNow(pid, 'SIGKILL');
  liveGroups.delete(pid);
}

/** Registers a temp folder to be removed by `removeDir` or, at the latest, at exit. */
export function trackDir(dir: string): string {
  installHooks();
  liveDirs.add(dir);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  liveDirs.delete(dir);
}
