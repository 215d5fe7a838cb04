/** A headless extension core (client + sync + fleet) pointed at a deployment URL. */
import { CoderClient } from '../../src/api/client';
import { systemClock } from '../../src/common/clock';
import { silentLogger } from '../../src/common/log';
import { Fleet } from '../../src/model/fleet';
import type { Change } from '../../src/model/types';
import { DeploymentSync, type SyncSettings } from '../../src/sync/deployment';

export interface BenchCore {
  client: CoderClient;
  fleet: Fleet;
  sync: DeploymentSync;
  onChanges(fn: (c: Change[]) => void): { dispose(): void };
  dispose(): void;
}

export function core(url: string, token: string, settings: Partial<SyncSettings> = {}): BenchCore {
  const client = new CoderClient({ baseUrl: url, token });
  const fleet = new Fleet({ deploymentUrl: url, clock: systemClock, myUsername: 'alice' });
  const sync = new DeploymentSync({
    client, fleet, clock: systemClock, log: silentLogger,
    settings: { workspaceFilter: 'owner:me', pollIntervalMs: 15_000, maxLiveWorkspaces: 20, ...settings },
  });
  sync.setViewVisible(true);
  sync.start();
  return { client, fleet, sync, onChanges: (fn) => sync.onChanges(fn), dispose: () => sync.dispose() };
}

/** The baseline: GET /workspaces every `intervalMs`, the way a polling sidebar stays fresh. */
export function baselinePoller(url: string, token: string, intervalMs: number, onList: (ws: { id: string; latest_build: { resources: { agents?: { id: string; lifecycle_state: string }[] }[] } }[]) => void) {
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
  return { stop: () => { stopped = true; clearTimeout(timer); } };
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
