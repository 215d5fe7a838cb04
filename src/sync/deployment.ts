/**
 * Keeps the model in step with one Coder deployment: a list poll for the whole filter, live
 * streams for the workspaces that matter (see liveSet.ts), REST resyncs after every reconnect,
 * and the deployment's connection state. Everything goes through `fleet.apply()`.
 *
 * Which stream feeds what. Per live workspace, the ladder connection-watch -> watch-ws -> SSE ->
 * poll. The fleet itself (which workspaces exist, their status, their agents' IDs) comes from the
 * tailnet push where the deployment offers it (see fleetPush.ts), else from the list poll.
 * connection-watch is the most precise primitive for the bound agent (its lifecycle and
 * agent-ID changes, at once) but it covers one agent and carries neither connection status nor
 * full rows, so it is used for the bound workspace only, with a watch-ws companion beside it
 * that pushes the whole workspace (statuses, sibling agents, times; see workspaceFeed.ts). Its
 * frames go to the model at once (the fast path for the agent-ID change and the reconnect).
 * Where the companion is not open (a deployment without watch-ws, or while it reconnects),
 * each connection-watch frame triggers a coalesced GET of the workspace instead, and while an
 * agent is still `connecting` the workspace is re-read every 0.5 s, because connection-watch
 * says nothing when it becomes `connected` and the stuck signature needs exactly that. Other
 * workspaces use watch-ws (or SSE), which pushes the whole workspace on every change. The list
 * poll finds added and removed workspaces where no push serves, and is the safety resync where one does.
 */
import type { CoderClient } from '../api/client';
import { errorText, isNotFound } from '../api/errors';
import { agentsOf, type Workspace } from '../api/schemas';
import { describeClose } from '../api/socket';
import type { Clock } from '../common/clock';
import { Emitter, type Disposable } from '../common/disposable';
import type { Logger } from '../common/log';
import type { DevcontainerStore } from '../model/devcontainers';
import type { Change, ConnectionState, FleetEvent, StreamRung } from '../model/types';
import { Coalescer } from './coalescer';
import { classifyFailure, ConnectionTracker, isUnreachableClose } from './connection';
import { FleetPush, type FleetPushHost } from './fleetPush';
import type { FleetPushFactory } from './fleetPushSource';
import { fleetPollPeriod } from './fleetRung';
import { DevcontainerSync, devcontainerTargets } from './devcontainerSync';
import { DeploymentSupport } from './ladder';
import { chooseLiveSet } from './liveSet';
import { Poller } from './poller';
import { sharedAbort } from './sharedAbort';
import { RateLimitedLog, reasonKind } from './rateLimitedLog';
import { ReconnectSpread } from './reconnectSpread';
import { Settler } from './settler';
import { mergeSettings, type SyncSettings } from './settings';
import { WorkspaceFeed, type FeedHost } from './workspaceFeed';

export type { SyncSettings } from './settings';

export interface DeploymentSyncOptions {
  client: CoderClient;
  fleet: { apply(e: FleetEvent): Change[] };
  clock: Clock;
  log: Logger;
  settings: SyncSettings;
  random?: () => number;
  /** What the deployment offers; pass the same one again to remember it across re-creations. */
  support?: DeploymentSupport;
  /** Expected server ping interval of the streams (heartbeat = twice this). Default 15 s. */
  pingIntervalMs?: number;
  /** Re-read period while an agent on a connection-watch is still connecting. Default 0.5 s (at most 60 reads). */
  settleMs?: number;
  /** Opens the fleet push (tailnet WorkspaceUpdates); without it the list poll serves the fleet. */
  fleetPush?: FleetPushFactory;
  /** Where the dev containers of the bound and visible workspaces go; without it they are not followed. */
  devcontainers?: DevcontainerStore;
  /** The window over which the first reconnect after a deployment loss is spread (reconnectSpread.ts). */
  spreadWindowMs?: number;
}

export class DeploymentSync implements Disposable {
  private readonly changes = new Emitter<Change[]>();
  readonly onChanges = this.changes.event;

  private readonly support: DeploymentSupport;
  private readonly invalid: RateLimitedLog;
  private settings: Required<SyncSettings>;
  private readonly feeds = new Map<string, WorkspaceFeed>();
  /** Last known rows, in list order: input of the live set and of connection-watch agent names. */
  private rows = new Map<string, Workspace>();
  private bound: string | undefined;
  private visible: string[] = [];
  private inView = new Set<string>();
  private viewVisible = true;
  private readonly boundAgents = new Map<string, string>();
  private username: string | undefined;
  private userId: string | undefined;
  private readonly push: FleetPush;
  private readonly connection: ConnectionTracker;

  private started = false;
  private disposed = false;
  /** Bumped on sign-out and dispose: answers of requests started before are dropped. */
  private epoch = 0;
  private abort = sharedAbort();
  private readonly poller: Poller;
  private readonly reads: Coalescer;
  private readonly host: FeedHost;
  private readonly settler: Settler;
  private readonly devcontainers: DevcontainerSync | undefined;
  private readonly spread: ReconnectSpread;

  constructor(private readonly o: DeploymentSyncOptions) {
    this.support = o.support ?? new DeploymentSupport();
    this.invalid = new RateLimitedLog(o.log, o.clock);
    this.connection = new ConnectionTracker(o.clock, (state) => this.apply({ kind: 'connection', state, at: o.clock.now() }));
    this.settings = mergeSettings({ hiddenPollFactor: 4, ...o.settings }, {});
    this.spread = new ReconnectSpread({
      clock: o.clock,
      random: o.random,
      windowMs: o.spreadWindowMs,
      onLoss: (w, ms) => this.lost(w, ms),
    });
    this.host = this.makeHost();
    this.poller = new Poller({
      clock: o.clock,
      run: () => (this.spread.holding ? this.spread.ready().then(() => (this.active() ? this.pollOnce() : undefined)) : this.pollOnce()),
      period: () => {
        const polled = this.settings.pollIntervalMs * (this.viewVisible ? 1 : this.settings.hiddenPollFactor);
        return this.connection.pollPeriod(fleetPollPeriod(this.push.rung, polled, this.settings.fleetResyncIntervalMs));
      },
    });
    this.reads = new Coalescer(
      (id) => this.readWorkspace(id),
      (id, e) => this.readFailed(id, e),
    );
    this.settler = new Settler(o.clock, (id) => this.fetchWorkspace(id), o.settleMs);
    this.push = new FleetPush(this.pushHost(), o.fleetPush);
    if (o.devcontainers) {
      this.devcontainers = new DevcontainerSync({
        client: o.client,
        clock: o.clock,
        log: o.log,
        store: o.devcontainers,
        emit: (changes) => this.changes.fire(changes),
        onInvalid: (reason) => this.invalid.warn(reasonKind(reason), `invalid frame skipped: ${reason}`),
        random: o.random,
        pingIntervalMs: o.pingIntervalMs,
        gate: (connect) => this.spread.wrap(connect),
      });
    }
  }

  start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    this.setConnection({ kind: 'connecting' });
    this.push.reconsider();
    this.poller.start();
    void this.poller.pollNow();
  }

  /** A full REST resync now; after a sign-out this is what starts everything again. */
  async refresh(): Promise<void> {
    if (this.disposed) return;
    if (this.connection.kind === 'signed-out') {
      this.abort = sharedAbort();
      this.setConnection({ kind: 'connecting' });
    }
    this.started = true;
    this.spread.endWait();
    this.poller.start();
    for (const [id, feed] of this.feeds) {
      feed.reconnectNow();
      if (feed.rung !== 'poll') this.fetchWorkspace(id);
    }
    this.push.reconnectNow();
    this.devcontainers?.reread();
    await this.poller.pollNow();
  }

  setBoundWorkspace(id: string | undefined): void {
    if (this.bound === id) return;
    const before = this.bound;
    this.bound = id;
    this.updateLiveSet();
    // connection-watch follows the binding: off the old workspace, onto the new one.
    for (const w of [before, id]) if (w !== undefined) this.feeds.get(w)?.agentChanged();
  }

  setBoundAgentName(workspaceId: string, agentName: string | undefined): void {
    if (this.boundAgents.get(workspaceId) === agentName) return;
    if (agentName === undefined) this.boundAgents.delete(workspaceId);
    else this.boundAgents.set(workspaceId, agentName);
    this.feeds.get(workspaceId)?.agentChanged();
  }

  setVisibleWorkspaces(ids: string[]): void {
    const before = this.inView;
    this.visible = [...ids];
    this.inView = new Set(ids);
    this.updateLiveSet();
    const arriving = ids.filter((id) => !before.has(id));
    // A row that comes into view gets its dev containers read again (the watch may have been quiet).
    for (const id of arriving) this.devcontainers?.reread(id);
    if (this.active()) this.push.cameIntoView(arriving);
  }

  setViewVisible(v: boolean): void {
    if (this.viewVisible === v) return;
    this.viewVisible = v;
    this.poller.reschedule();
  }

  updateSettings(next: Partial<SyncSettings>): void {
    const before = this.settings;
    this.settings = mergeSettings(before, next);
    if (before.workspaceFilter !== this.settings.workspaceFilter) {
      this.push.reconsider();
      void this.poller.pollNow();
    } else if (
      before.pollIntervalMs !== this.settings.pollIntervalMs ||
      before.hiddenPollFactor !== this.settings.hiddenPollFactor ||
      before.fleetResyncIntervalMs !== this.settings.fleetResyncIntervalMs
    )
      this.poller.reschedule();
    if (before.maxLiveWorkspaces !== this.settings.maxLiveWorkspaces) this.updateLiveSet();
  }

  /** Which stream rungs this deployment is known to offer, for logs and diagnostics. */
  describeSupport(): string {
    return this.support.describe();
  }

  rungOf(workspaceId: string): StreamRung | undefined {
    return this.feeds.get(workspaceId)?.rung ?? (this.rows.has(workspaceId) ? 'poll' : undefined);
  }

  /** Workspaces with a live feed (for diagnostics and tests). */
  get liveWorkspaces(): string[] {
    return [...this.feeds.keys()];
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stopAll();
    this.push.dispose();
    this.devcontainers?.dispose();
    this.spread.dispose();
    this.changes.dispose();
  }

  // ---- list poll -------------------------------------------------------------------------

  private async pollOnce(): Promise<void> {
    const epoch = this.epoch;
    const signal = this.abort.signal;
    try {
      if (this.username === undefined) {
        const me = await this.o.client.me({ signal });
        if (epoch !== this.epoch) return;
        this.username = me.username;
        this.userId = me.id;
      }
      const list = await this.o.client.allWorkspaces(this.settings.workspaceFilter, { signal });
      if (epoch !== this.epoch) return;
      this.markLive();
      const next = new Map(list.map((w) => [w.id, w] as const));
      // The bound workspace may lie outside the filter: the list does not speak for it.
      const boundRow = this.bound ? this.rows.get(this.bound) : undefined;
      if (boundRow && !next.has(boundRow.id)) next.set(boundRow.id, boundRow);
      this.rows = next;
      this.apply({ kind: 'workspaces', workspaces: [...next.values()], at: this.o.clock.now() });
      this.push.listed();
      this.updateLiveSet();
      // Full rows first: the push's snapshot is compared against them.
      if (this.userId !== undefined) this.push.begin(this.userId);
    } catch (e) {
      if (epoch !== this.epoch) return;
      this.failed(e, 'workspace list');
      if (this.connection.kind === 'offline') {
        this.poller.reschedule(); // the probe backoff: the period depends on the failures so far
        this.connection.probeFailed();
      }
    }
  }

  // ---- live set and feeds ----------------------------------------------------------------

  private updateLiveSet(): void {
    if (!this.active()) return;
    const ids = chooseLiveSet({
      bound: this.bound,
      visible: this.visible,
      workspaces: [...this.rows.values()],
      username: this.username,
      max: this.settings.maxLiveWorkspaces,
    });
    for (const [id, feed] of this.feeds) {
      if (ids.includes(id)) continue;
      feed.dispose();
      this.feeds.delete(id);
      this.settler.stop(id);
      if (this.rows.has(id)) this.apply({ kind: 'rung', workspaceId: id, rung: 'poll', at: this.o.clock.now() });
    }
    for (const id of ids) {
      if (this.feeds.has(id)) continue;
      const feed = new WorkspaceFeed(this.host, id);
      this.feeds.set(id, feed);
      feed.start();
    }
    this.updateDevcontainers();
  }

  /** Dev containers are followed for the bound and the visible workspaces of the live set only. */
  private updateDevcontainers(): void {
    if (!this.devcontainers || !this.active()) return;
    const ids = [...this.feeds.keys()].filter((id) => id === this.bound || this.inView.has(id));
    this.devcontainers.setTargets(ids.flatMap((id) => (this.rows.has(id) ? devcontainerTargets(this.rows.get(id)!) : [])));
  }

  private makeHost(): FeedHost {
    return {
      client: this.o.client,
      clock: this.o.clock,
      log: this.o.log,
      support: this.support,
      random: this.o.random,
      pingIntervalMs: this.o.pingIntervalMs,
      gate: (connect) => this.spread.wrap(connect),
      connectionWatchAgent: (id) => (id === this.bound ? this.boundAgents.get(id) : undefined),
      onConnectionWatch: (id, agentName, event) => {
        this.markLive();
        this.apply({ kind: 'connection-watch', workspaceId: id, agentName, event, at: this.o.clock.now() });
        if (!this.feeds.get(id)?.pushesStatus) this.fetchWorkspace(id);
      },
      onWatchEvent: (id, event) => {
        this.markLive();
        if (event.type === 'workspace') {
          this.rows.set(id, event.workspace);
          this.apply({ kind: 'workspace', workspace: event.workspace, at: this.o.clock.now() });
        } else {
          this.invalid.warn(`stream-error:${event.error.message}`, `workspace ${id} stream error: ${event.error.message}`);
        }
      },
      onOpened: (id, rung, reconnect) => {
        this.o.log.debug(`${rung} open for ${id}${reconnect ? ' (reconnected)' : ''}`);
        this.markLive();
        // Events missed while down must not be lost; connection-watch never sends full rows.
        if (reconnect || rung === 'connection-watch') this.fetchWorkspace(id);
        // A stream that opens proves the deployment takes streams again (after a restart):
        // the others waiting out their backoff try now instead of at their own, later times.
        if (reconnect) {
          for (const [other, feed] of this.feeds) if (other !== id) feed.reconnectNow();
          this.push.reconnectNow();
        }
      },
      onFailure: (_id, _rung, reason) => {
        // One stream failing is not the deployment being down (a proxy may block WebSockets
        // only): ask the REST side, whose failure is what turns the state offline.
        if (isUnreachableClose(reason)) this.probe(describeClose(reason));
      },
      onSignedOut: (detail) => this.signOut(detail),
      onRung: (id, rung) => {
        this.o.log.info(`workspace ${id} now fed by ${rung} (${this.support.describe()})`);
        this.apply({ kind: 'rung', workspaceId: id, rung, at: this.o.clock.now() });
      },
      onMaybeGone: (id) => this.fetchWorkspace(id),
      onInvalid: (reason) => this.invalid.warn(reasonKind(reason), `invalid frame skipped: ${reason}`),
      restWorks: (id) =>
        this.readWorkspace(id).then(
          () => true,
          () => false,
        ),
    };
  }

  // ---- per-workspace REST reads ----------------------------------------------------------

  /** GET /workspaces/{id}, coalesced: a request while one is in flight makes one more read. */
  private fetchWorkspace(id: string): void {
    if (this.active()) void this.reads.request(id);
  }

  private async readWorkspace(id: string): Promise<void> {
    const epoch = this.epoch;
    const ws = await this.o.client.workspace(id, { signal: this.abort.signal });
    if (epoch !== this.epoch) return;
    this.markLive();
    this.rows.set(id, ws);
    const changes = this.apply({ kind: 'workspace', workspace: ws, at: this.o.clock.now() });
    const replaced = this.push.afterRead(ws, changes);
    if (replaced.length) this.changes.fire(replaced);
    this.settle(id, ws);
  }

  private readFailed(id: string, e: unknown): void {
    if (!this.active()) return;
    if (isNotFound(e)) this.removed(id);
    else this.failed(e, `workspace ${id}`);
  }

  /** See settler.ts: on connection-watch without its companion, re-read while an agent connects. */
  private settle(id: string, ws: Workspace): void {
    const feed = this.feeds.get(id);
    const unseen = feed?.rung === 'connection-watch' && !feed.pushesStatus;
    this.settler.update(id, unseen && agentsOf(ws).some((a) => a.status === 'connecting'));
  }

  private removed(id: string): void {
    this.rows.delete(id);
    this.settler.stop(id);
    this.apply({ kind: 'workspace-removed', workspaceId: id, at: this.o.clock.now() });
    const feed = this.feeds.get(id);
    if (feed && id !== this.bound) {
      feed.dispose();
      this.feeds.delete(id);
    }
  }

  // ---- connection state ------------------------------------------------------------------

  private failed(e: unknown, what: string): void {
    const v = classifyFailure(e, this.o.client.secrets);
    if (v.kind === 'signed-out') this.signOut(v.text);
    else if (v.kind === 'offline') this.goOffline(v.text);
    else if (v.kind === 'error') this.o.log.error(`${what}: ${v.text}`);
  }

  private markLive(): void {
    if (!this.active()) return;
    if (this.connection.markLive().wasOffline) {
      // Back from an outage: catch up on everything at once instead of waiting for timers.
      for (const feed of this.feeds.values()) feed.reconnectNow();
      this.push.reconnectNow();
      void this.poller.pollNow();
    }
  }

  private probe(why: string): void {
    if (!this.active() || !this.connection.shouldProbe(this.poller.lastRunAt)) return;
    this.o.log.debug(`stream failed (${why}); checking the deployment`);
    void this.poller.pollNow();
  }

  private goOffline(error: string): void {
    if (!this.active() || this.connection.kind === 'offline') return;
    this.o.log.warn(`deployment unreachable: ${error}`);
    this.connection.goOffline(error);
  }

  /** See reconnectSpread.ts. Nothing asks the deployment meanwhile: the view shows its state as that old. */
  private lost(why: string, delayMs: number): void {
    this.o.log.info(`deployment lost (${why}): reconnecting in ${delayMs} ms, spread over the editors of this deployment`);
    this.goOffline(why);
  }

  private signOut(detail: string): void {
    if (this.connection.kind === 'signed-out' || this.disposed) return;
    this.o.log.warn(`signed out: ${detail}`);
    // Signed out first: nothing that stopping the feeds sets off may act as if still signed in.
    this.setConnection({ kind: 'signed-out', error: detail });
    this.stopAll();
  }

  private stopAll(): void {
    this.epoch++;
    this.abort.abort();
    this.poller.stop();
    this.push.stop();
    this.reads.clear();
    for (const feed of this.feeds.values()) feed.dispose();
    this.feeds.clear();
    this.settler.dispose();
    this.devcontainers?.closeAll();
  }

  private setConnection(state: ConnectionState): void {
    this.connection.set(state);
  }

  private active(): boolean {
    return this.started && !this.disposed && this.connection.kind !== 'signed-out';
  }

  private apply(e: FleetEvent): Change[] {
    let changes: Change[];
    try {
      changes = this.o.fleet.apply(e);
    } catch (err) {
      // One line per kind of event and minute: a deployment that sends a shape the model cannot
      // fold sends it again with every update. The rest of the sync goes on.
      this.invalid.warn(`model-rejected:${e.kind}`, `model rejected a ${e.kind} event: ${errorText(err, this.o.client.secrets)}`);
      return [];
    }
    if (changes.length) this.changes.fire(changes);
    // New agent IDs, agents connecting: the dev-container watches follow the rows.
    if (e.kind === 'workspace' && changes.length) this.updateDevcontainers();
    return changes;
  }

  private pushHost(): FleetPushHost {
    return {
      clock: this.o.clock,
      log: this.o.log,
      support: this.support,
      gate: (connect) => this.spread.wrap(connect),
      filter: () => this.settings.workspaceFilter,
      rows: () => this.rows,
      bound: () => this.bound,
      isStreamed: (id) => (this.feeds.get(id)?.rung ?? 'poll') !== 'poll',
      serverSkewMs: () => this.o.client.serverClock.skewMs,
      inView: (id) => this.inView.has(id),
      patched: ({ ws, placed }) => {
        if (!this.active()) return;
        this.rows.set(ws.id, ws);
        this.apply({ kind: 'pushed', workspace: ws, replaced: placed, at: this.o.clock.now() });
      },
      read: (id) => (this.active() ? this.reads.request(id) : Promise.resolve()),
      resync: () => void this.poller.pollNow(),
      remove: (id) => {
        if (this.active()) this.removed(id);
      },
      signOut: (detail) => this.signOut(detail),
      opened: () => this.markLive(),
      restWorks: () =>
        this.o.client.me({ signal: this.abort.signal }).then(
          () => true,
          () => false,
        ),
      rungChanged: ({ rung, reason }) => {
        this.o.log.info(`fleet served by ${rung}: ${reason}`);
        this.apply({ kind: 'fleet-rung', rung, reason, at: this.o.clock.now() });
        this.poller.reschedule();
      },
    };
  }
}
