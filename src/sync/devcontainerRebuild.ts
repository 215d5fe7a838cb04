/**
 * "Rebuild Dev Container", headless: asks the deployment to recreate the dev container, then
 * waits (bounded, cancellable) until its sub-agent is back and ready. The sub-agent is followed
 * by name under its parent, since an injected sub-agent comes back under a new ID; it counts as
 * back once it was seen leaving (gone, another ID, not ready, not connected) or reported a new
 * `ready_at`, and is connected and `ready` again. Without a sub-agent, the container's own status
 * (seen rebuilding, then `running`) decides.
 */
import type { CoderClient } from '../api/client';
import { recreateDevcontainer } from '../api/devcontainers';
import type { Clock } from '../common/clock';
import type { WorkspaceAgent } from '../api/schemas';
import type { Disposable } from '../common/disposable';
import type { DevcontainerStore } from '../model/devcontainers';
import type { Fleet } from '../model/fleet';
import type { Change } from '../model/types';

export interface RebuildTarget {
  workspaceId: string;
  parentAgentId: string;
  devcontainerId: string;
  /** The sub-agent to wait for (name under the parent agent named `parentName`); none: wait for the container only. */
  subAgentName: string | undefined;
  parentName: string;
}

export interface RebuildDeps {
  client: CoderClient;
  fleet: Fleet;
  store: DevcontainerStore;
  clock: Clock;
  onChanges: (listener: (changes: Change[]) => void) => Disposable;
}

export type RebuildResult =
  | { kind: 'ready'; ms: number; agentId: string | undefined; previousAgentId: string | undefined }
  | { kind: 'timeout'; ms: number }
  | { kind: 'cancelled' };

/**
 * Sends the recreate, then waits for the sub-agent to be back and ready. A refusal throws the
 * DevcontainerError of api/devcontainers.ts (`transitioning` for a 409, `not-connected`, ...).
 * `onRequested` runs once the deployment accepted (202).
 */
export async function rebuildDevcontainer(
  deps: RebuildDeps,
  t: RebuildTarget,
  timeoutMs: number,
  opts: { signal?: AbortSignal; onRequested?: () => void } = {},
): Promise<RebuildResult> {
  // What "before" looked like must be taken before asking: the sub-agent may be gone by the answer.
  const before = t.subAgentName === undefined ? undefined : deps.fleet.findAgent(t.workspaceId, t.subAgentName, t.parentName);
  await recreateDevcontainer(deps.client, t.parentAgentId, t.devcontainerId);
  opts.onRequested?.();
  return waitForRebuild(deps, t, before, timeoutMs, opts.signal);
}

function waitForRebuild(
  deps: RebuildDeps,
  t: RebuildTarget,
  before: WorkspaceAgent | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<RebuildResult> {
  const started = deps.clock.now();
  const sub = () => (t.subAgentName === undefined ? undefined : deps.fleet.findAgent(t.workspaceId, t.subAgentName, t.parentName));
  const previousAgentId = before?.id;
  const previousReadyAt = before?.ready_at;
  let left = false;
  let rebuilding = false;
  return new Promise<RebuildResult>((resolve) => {
    const finish = (r: RebuildResult) => {
      listener.dispose();
      timer.cancel();
      signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const check = () => {
      const dc = deps.store.find(t.parentAgentId, t.devcontainerId);
      if (dc && dc.status !== 'running') rebuilding = true;
      const ms = deps.clock.now() - started;
      if (t.subAgentName === undefined) {
        if (rebuilding && dc?.status === 'running') finish({ kind: 'ready', ms, agentId: undefined, previousAgentId });
        return;
      }
      const a = sub();
      if (!a || a.id !== previousAgentId || a.lifecycle_state !== 'ready' || a.status !== 'connected') left = true;
      // The old sub-agent, still ready before the recreate reached it, is not "back": a new row, a new ready, or a seen departure is.
      const again = left || (a !== undefined && a.ready_at !== previousReadyAt);
      if (again && a?.lifecycle_state === 'ready' && a.status === 'connected')
        finish({ kind: 'ready', ms, agentId: a.id, previousAgentId });
    };
    const onAbort = () => finish({ kind: 'cancelled' });
    const listener = deps.onChanges(check);
    const timer = deps.clock.setTimeout(() => finish({ kind: 'timeout', ms: deps.clock.now() - started }), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    else check();
  });
}
