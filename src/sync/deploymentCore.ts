/**
 * The headless core of one deployment: REST client, fleet model and sync, wired the one way the
 * extension, the integration tests and the bench all run them. No 'vscode' here: the extension's
 * session adds only what a user sees (sign-in state, the user name for the tree).
 */
import type { Agent } from 'node:http';
import { CoderClient } from '../api/client';
import type { Clock } from '../common/clock';
import type { Disposable } from '../common/disposable';
import type { Logger } from '../common/log';
import { DevcontainerStore } from '../model/devcontainers';
import { Fleet } from '../model/fleet';
import { DeploymentSync } from './deployment';
import type { DeploymentSupport } from './ladder';
import type { SyncSettings } from './settings';
import { tailnetFleetPush } from './tailnetFleetPush';

export interface DeploymentCoreOptions {
  url: string;
  token: string;
  clock: Clock;
  log: Logger;
  settings: SyncSettings;
  /** How requests reach the deployment (see api/network.ts); Node's defaults when absent. */
  transport?: {
    fetch?: typeof fetch;
    headers?: () => Promise<Record<string, string>> | Record<string, string>;
    wsAgent?: Agent | undefined;
  };
  /** The signed-in user, when known in advance (owners other than this one are shown). */
  myUsername?: string;
  /** Expected server ping interval of the streams. Default 15 s. */
  pingIntervalMs?: number;
  random?: () => number;
  /** The window over which the first reconnect after a deployment loss is spread (reconnectSpread.ts). */
  spreadWindowMs?: number;
  /** The dev-container store to fill (a new one when absent). */
  devcontainers?: DevcontainerStore;
  /** What the deployment offers; pass the same one again to remember it across re-creations. */
  support?: DeploymentSupport;
  /** Serve the fleet from the tailnet WorkspaceUpdates push where the deployment offers it (the extension does). */
  fleetPush?: boolean;
}

export interface DeploymentCore extends Disposable {
  readonly url: string;
  readonly client: CoderClient;
  readonly fleet: Fleet;
  /** Dev containers of the live set's parent agents. */
  readonly devcontainers: DevcontainerStore;
  readonly sync: DeploymentSync;
}

/** Builds the core; nothing runs until `sync.start()`. Disposing stops the sync. */
export function createDeploymentCore(o: DeploymentCoreOptions): DeploymentCore {
  const t = o.transport ?? {};
  const client = new CoderClient({
    baseUrl: o.url,
    token: o.token,
    ...(t.fetch ? { fetch: t.fetch } : {}),
    ...(t.headers ? { headers: t.headers } : {}),
    ...(t.wsAgent ? { agent: t.wsAgent } : {}),
    clock: o.clock,
  });
  const fleet = new Fleet({
    deploymentUrl: o.url,
    serverSkewMs: () => client.serverClock.skewMs,
    ...(o.myUsername !== undefined ? { myUsername: o.myUsername } : {}),
  });
  const devcontainers = o.devcontainers ?? new DevcontainerStore();
  const sync = new DeploymentSync({
    client,
    fleet,
    devcontainers,
    clock: o.clock,
    log: o.log,
    settings: o.settings,
    ...(o.pingIntervalMs !== undefined ? { pingIntervalMs: o.pingIntervalMs } : {}),
    ...(o.random ? { random: o.random } : {}),
    ...(o.spreadWindowMs !== undefined ? { spreadWindowMs: o.spreadWindowMs } : {}),
    ...(o.support ? { support: o.support } : {}),
    ...(o.fleetPush
      ? { fleetPush: tailnetFleetPush({ client, clock: o.clock, log: o.log, ...(o.random ? { random: o.random } : {}) }) }
      : {}),
  });
  return { url: o.url, client, fleet, devcontainers, sync, dispose: () => sync.dispose() };
}
