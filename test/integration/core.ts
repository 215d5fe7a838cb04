/** The extension's headless core (client + sync + model, as sync/deploymentCore.ts builds it) against a deployment, for integration tests and the bench. */
import type { CoderClient } from '../../src/api/client';
import { systemClock } from '../../src/common/clock';
import type { Logger } from '../../src/common/log';
import { MemoryLogger } from '../doubles/memoryLogger';
import type { DevcontainerStore } from '../../src/model/devcontainers';
import type { Fleet } from '../../src/model/fleet';
import type { Change } from '../../src/model/types';
import type { DeploymentSync, SyncSettings } from '../../src/sync/deployment';
import { createDeploymentCore } from '../../src/sync/deploymentCore';

export interface Core {
  client: CoderClient;
  fleet: Fleet;
  sync: DeploymentSync;
  /** What the core logged (empty when another logger was given). */
  log: MemoryLogger;
  /**
   * Resolves when `pred` holds: checked at once, after every model change, and every 20 ms for
   * conditions on the simulator's side (its counters change without a model change).
   */
  until(pred: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  dispose(): void;
}

/** How a test core differs from the defaults (see sync/deploymentCore.ts). */
export interface CoreOptions {
  pingIntervalMs?: number;
  logger?: Logger;
  devcontainers?: DevcontainerStore;
  spreadWindowMs?: number;
  random?: () => number;
  fleetPush?: boolean;
}

/** `target`: a simulator, or any deployment URL and session token. */
export function startCore(target: { url: string; token: string }, settings: Partial<SyncSettings> = {}, opts: CoreOptions = {}): Core {
  const log = new MemoryLogger();
  const { client, fleet, sync } = createDeploymentCore({
    url: target.url,
    token: target.token,
    clock: systemClock,
    log: opts.logger ?? log,
    myUsername: 'alice',
    settings: { workspaceFilter: 'owner:me', pollIntervalMs: 60_000, maxLiveWorkspaces: 20, ...settings },
    ...(opts.pingIntervalMs ? { pingIntervalMs: opts.pingIntervalMs } : {}),
    ...(opts.devcontainers ? { devcontainers: opts.devcontainers } : {}),
    ...(opts.spreadWindowMs !== undefined ? { spreadWindowMs: opts.spreadWindowMs } : {}),
    ...(opts.random ? { random: opts.random } : {}),
    ...(opts.fleetPush ? { fleetPush: true } : {}),
  });
  const waiters = new Set<() => void>();
  const sub = sync.onChanges((_c: Change[]) => waiters.forEach((w) => w()));
  sync.setViewVisible(true);
  sync.start();
  return {
    client,
    fleet,
    sync,
    log,
    until(pred, what, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pred()) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        const poll = setInterval(check, 20);
        const cleanup = () => {
          clearTimeout(timer);
          clearInterval(poll);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    dispose() {
      sub.dispose();
      sync.dispose();
    },
  };
}

/**
 * A core bound to the agent `agentName` of `workspaceId`, as the extension binds a window, and
 * disposed when the test ends.
 */
export function startBoundCore(
  t: { after(fn: () => void): void },
  target: { url: string; token: string },
  workspaceId: string,
  settings: Partial<SyncSettings> = {},
  opts: CoreOptions & { agentName?: string } = {},
): Core {
  const core = startCore(target, settings, opts);
  t.after(() => core.dispose());
  core.sync.setBoundWorkspace(workspaceId);
  core.sync.setBoundAgentName(workspaceId, opts.agentName ?? 'main');
  return core;
}
