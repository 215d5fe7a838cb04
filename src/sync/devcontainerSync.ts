/**
 * Keeps the dev-container store in step for the parent agents that matter (the bound and the
 * visible workspaces of the live set): per connected parent agent, a REST read of the list first,
 * then (when the agent has dev containers enabled) a containers watch, with the list read again
 * whenever the watch opens (it may say nothing until something changes) and when a row becomes
 * visible again. A 404 turns the feature off for the deployment, logged once; a 400 (the parent
 * agent is not connected) is recorded as a state and retried only when the agent connects again;
 * a 403 (dev containers not enabled on that agent) is a state too, and no watch is opened. Watches
 * of parents that leave the set are closed and their list reads in flight cancelled: a burst of
 * live-set changes must not leave one request per change on its way (each concurrent request makes
 * Node's shared fetch dispatcher open one more connection, whose client object it keeps for the
 * life of the process).
 */
import type { CoderClient } from '../api/client';
import { DevcontainerError, listDevcontainers, watchContainers, watchFailureKind } from '../api/devcontainers';
import type { ContainersResponse } from '../api/devcontainerSchemas';
import { agentsOf, type Workspace } from '../api/schemas';
import { ReconnectingStream, type Connect, type StreamState } from '../api/socket';
import type { Clock } from '../common/clock';
import type { Disposable } from '../common/disposable';
import type { Logger } from '../common/log';
import type { DevcontainerEvent, DevcontainerStore } from '../model/devcontainers';
import type { Change } from '../model/types';

export interface DevcontainerTarget {
  workspaceId: string;
  parentAgentId: string;
  connected: boolean;
}

export interface DevcontainerSyncOptions {
  client: CoderClient;
  clock: Clock;
  log: Logger;
  store: DevcontainerStore;
  /** Hands the store's changes to whoever listens to the deployment's model. */
  emit: (changes: Change[]) => void;
  onInvalid?: (reason: string) => void;
  random?: () => number;
  pingIntervalMs?: number;
  /** Wraps every watch connect like the other streams' (the reconnect spread after a loss of the deployment). */
  gate?<T>(connect: Connect<T>): Connect<T>;
}

/** The parent agents of `ws` whose dev containers can be asked for: top-level agents of a succeeded start build. */
export function devcontainerTargets(ws: Workspace): DevcontainerTarget[] {
  const b = ws.latest_build;
  if (b.transition !== 'start' || b.job.status !== 'succeeded') return [];
  return agentsOf(ws)
    .filter((a) => !a.parent_id)
    .map((a) => ({ workspaceId: ws.id, parentAgentId: a.id, connected: a.status === 'connected' }));
}

interface Watch {
  target: DevcontainerTarget;
  stream: ReconnectingStream<ContainersResponse> | undefined;
  /** The first list answered: the watch may open. */
  watching: boolean;
  /** Cancels this parent's read in flight once it is forgotten, so that no request outlives its watch. */
  abort: AbortController;
  reading: boolean;
  readAgain: boolean;
}

export class DevcontainerSync implements Disposable {
  private readonly watches = new Map<string, Watch>();
  private disposed = false;

  constructor(private readonly o: DevcontainerSyncOptions) {}

  private gated<T>(connect: Connect<T>): Connect<T> {
    return this.o.gate ? this.o.gate(connect) : connect;
  }

  /** Parent agents followed now (for diagnostics and tests). */
  get parents(): string[] {
    return [...this.watches.keys()];
  }

  /** Follow exactly these parent agents; the others are closed and forgotten. */
  setTargets(targets: readonly DevcontainerTarget[]): void {
    if (this.disposed) return;
    if (this.o.store.supported === 'unsupported') return this.closeAll();
    const wanted = new Map(targets.map((t) => [t.parentAgentId, t] as const));
    for (const [id, w] of this.watches) {
      if (wanted.has(id)) continue;
      this.close(w);
      this.watches.delete(id);
      this.apply({ kind: 'forget', parentAgentId: id });
    }
    for (const t of wanted.values()) {
      const w = this.watches.get(t.parentAgentId);
      if (!w) {
        const fresh: Watch = {
          target: t,
          stream: undefined,
          watching: false,
          abort: new AbortController(),
          reading: false,
          readAgain: false,
        };
        this.watches.set(t.parentAgentId, fresh);
        if (t.connected) this.read(fresh);
        else this.notConnected(fresh);
        continue;
      }
      const cameBack = t.connected && !w.target.connected;
      w.target = t;
      // A parent refused with 400 (or not connected from the start) is asked again once it connects.
      if (cameBack && (!w.stream || w.stream.state.kind === 'closed-permanently')) this.restart(w);
    }
  }

  /** Read the lists of a workspace's followed parents again (its row became visible). */
  reread(workspaceId?: string): void {
    for (const w of this.watches.values()) if (workspaceId === undefined || w.target.workspaceId === workspaceId) this.read(w);
  }

  /** Everything off (sign-out); setTargets starts again. */
  closeAll(): void {
    for (const [id, w] of this.watches) {
      this.close(w);
      this.apply({ kind: 'forget', parentAgentId: id });
    }
    this.watches.clear();
  }

  dispose(): void {
    if (this.disposed) return;
    this.closeAll();
    this.disposed = true;
  }

  private close(w: Watch): void {
    w.abort.abort();
    w.stream?.dispose();
  }

  /** Back to the beginning for one parent: list first, then the watch. */
  private restart(w: Watch): void {
    w.stream?.dispose();
    w.stream = undefined;
    w.watching = false;
    this.read(w);
  }

  private open(w: Watch): void {
    w.stream?.dispose();
    w.watching = true;
    const { parentAgentId } = w.target;
    const stream: ReconnectingStream<ContainersResponse> = new ReconnectingStream<ContainersResponse>({
      connect: this.gated(watchContainers(this.o.client, parentAgentId, this.o.onInvalid)),
      clock: this.o.clock,
      random: this.o.random,
      pingIntervalMs: this.o.pingIntervalMs,
      onFrame: (answer) => {
        if (this.current(w, stream)) this.answer(w, answer);
      },
      onOpen: () => {
        if (this.current(w, stream)) this.read(w);
      },
      onState: (s) => {
        if (this.current(w, stream)) this.ended(w, s);
      },
    });
    w.stream = stream;
    stream.start();
  }

  private current(w: Watch, stream: ReconnectingStream<ContainersResponse>): boolean {
    return !this.disposed && this.watches.get(w.target.parentAgentId) === w && w.stream === stream;
  }

  private ended(w: Watch, s: StreamState): void {
    if (s.kind !== 'closed-permanently' || s.reason === 'disposed') return;
    const kind = watchFailureKind(s.cause);
    if (kind === 'unsupported' || s.reason === 'unsupported') return this.unsupported(`containers watch: ${s.detail}`);
    if (kind === 'not-connected') return this.notConnected(w);
    if (kind === 'disabled') return this.disabled(w, s.detail);
    this.o.log.warn(`dev containers of agent ${w.target.parentAgentId}: watch ended (${s.detail})`);
    this.apply({ kind: 'state', ...ids(w), state: 'error', message: s.detail, at: this.o.clock.now() });
  }

  /** GET the list; a read asked for while one is in flight makes one more read after it. */
  private read(w: Watch): void {
    if (w.reading) {
      w.readAgain = true;
      return;
    }
    w.reading = true;
    const signal = w.abort.signal;
    void listDevcontainers(this.o.client, w.target.parentAgentId, signal)
      .then(
        (answer) => {
          if (!signal.aborted && this.watches.get(w.target.parentAgentId) === w) this.answer(w, answer);
        },
        (e: unknown) => {
          if (signal.aborted || this.watches.get(w.target.parentAgentId) !== w) return;
          this.readFailed(w, e instanceof DevcontainerError ? e : new DevcontainerError('failed', String(e)));
        },
      )
      .finally(() => {
        w.reading = false;
        if (w.readAgain && !signal.aborted && this.watches.get(w.target.parentAgentId) === w) {
          w.readAgain = false;
          this.read(w);
        }
      });
  }

  private readFailed(w: Watch, e: DevcontainerError): void {
    switch (e.kind) {
      case 'unsupported':
        return this.unsupported(`containers list: ${e.message}`);
      case 'not-connected':
        return this.notConnected(w);
      case 'disabled':
        return this.disabled(w, e.apiError?.message ?? e.message);
      default:
        if (e.apiError?.kind === 'aborted') return;
        this.o.log.warn(`dev containers of agent ${w.target.parentAgentId}: ${e.message}`);
        this.apply({ kind: 'state', ...ids(w), state: 'error', message: e.message, at: this.o.clock.now() });
        // A passing failure (network, 5xx, a slow agent): the watch retries with backoff and reads again when it opens.
        if (!w.watching) this.open(w);
    }
  }

  private answer(w: Watch, answer: ContainersResponse): void {
    this.apply({ kind: 'answer', ...ids(w), answer, at: this.o.clock.now() });
    if (!w.watching && w.target.connected) this.open(w);
  }

  private disabled(w: Watch, message: string): void {
    this.o.log.debug(`dev containers of agent ${w.target.parentAgentId}: not enabled there (${message})`);
    this.apply({ kind: 'state', ...ids(w), state: 'disabled', message, at: this.o.clock.now() });
  }

  private notConnected(w: Watch): void {
    this.apply({ kind: 'state', ...ids(w), state: 'not-connected', message: 'the agent is not connected', at: this.o.clock.now() });
  }

  private unsupported(why: string): void {
    if (this.o.store.supported === 'unsupported') return;
    this.o.log.info(`dev containers: this deployment does not offer them (${why}); not asked again`);
    this.apply({ kind: 'unsupported' });
    this.closeAll();
  }

  private apply(e: DevcontainerEvent): void {
    const changes = this.o.store.apply(e);
    if (changes.length) this.o.emit(changes);
  }
}

function ids(w: Watch): { workspaceId: string; parentAgentId: string } {
  return { workspaceId: w.target.workspaceId, parentAgentId: w.target.parentAgentId };
}
