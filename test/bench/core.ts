/** The extension's headless core as the bench runs it, the polling baseline, and a wait helper. */
import { silentLogger } from '../../src/common/log';
import type { SyncSettings } from '../../src/sync/settings';
import { startCore, type Core } from '../integration/core';

/** The core as the extension runs it: the default poll interval, the fleet push on, no log kept in memory. */
export function core(target: { url: string; token: string }, settings: Partial<SyncSettings> = {}): Core {
  return startCore(target, { pollIntervalMs: 15_000, ...settings }, { logger: silentLogger, fleetPush: true });
}

/** The baseline: GET /workspaces every `intervalMs`, the way a polling sidebar stays fresh. */
export function baselinePoller(
  url: string,
  token: string,
  intervalMs: number,
  onList: (
    ws: { id: string; latest_build: { resources: { agents?: { id: string; lifecycle_state: string; created_at: string }[] }[] } }[],
  ) => void,
) {
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    try {
      const res = await fetch(`${url}/api/v2/workspaces?q=owner:me`, { headers: { 'Coder-Session-Token': token } });
      const body = (await res.json()) as { workspaces: never[] };
      onList(body.workspaces);
    } catch {
      // a failed poll is retried at the next tick
    }
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
  };
  let timer = setTimeout(() => void tick(), 0);
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

export const until = (pred: () => boolean, timeoutMs: number, what: string) =>
  new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      if (pred()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(check, 5);
    };
    check();
  });
