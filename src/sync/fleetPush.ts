/**
 * The fleet push in the sync: runs the tailnet `WorkspaceUpdates` source for the signed-in
 * user, folds what it says into REST reads and removals (fleetReconcile.ts), decides which rung
 * serves the fleet (fleetRung.ts), and remembers per deployment when the push is not offered.
 *
 * The push carries which workspaces exist, their status and their agents' IDs, never full rows
 * or lifecycle. A workspace with a stream of its own needs none of it. For the others the push's
 * facts go into the model's row at once (model/pushedRow.ts), and a REST read (coalesced, a few
 * at a time) follows only where the row is wanted whole: a workspace the model lacks, an agent
 * the row cannot place, the bound workspace (its follower acts on full rows), new agents of a
 * workspace in view. A row patched out of view is read when it comes into view. Under build
 * churn a fleet out of view thus costs no request; no list poll on the push's account.
 */
import type { Connect } from '../api/socket';
import type { Workspace } from '../api/schemas';
import type { Clock, TimerHandle } from '../common/clock';
import { DisposableStore, type Disposable } from '../common/disposable';
import type { Logger } from '../common/log';
import { DepartedAgents, patchRow, type PatchedRow } from '../model/pushedRow';
import type { Change, FleetRung } from '../model/types';
import type { FleetPushFactory, FleetPushSource, FleetPushState, FleetUpdate } from './fleetPushSource';
import {
  PushedFleet,
  arrived,
  completePairings,
  differs,
  reconcileChange,
  reconcileSnapshot,
  type AgentPairing,
  type ModelView,
} from './fleetReconcile';
import { coversList, decideFleetRung, type FleetRungDecision, type PushStatus } from './fleetRung';
import type { DeploymentSupport } from './ladder';

/** A push that dropped keeps serving this long while it reconnects; then the list poll takes over. */
export const PUSH_GRACE_MS = 30_000;
/** A deployment that refused the push is asked again after this long (an upgrade, a policy change). */
export const PUSH_RETRY_MS = 30 * 60_000;
/** Upgrades that fail before the push ever opened while REST answers: WebSockets are blocked on the way. */
const BLOCKED_AFTER_FAILURES = 3;
/** REST reads the push asks for at once (a snapshot after a long outage may name hundreds). */
const READ_CONCURRENCY = 4;
/** Rows patched out of view that come into view together beyond this many: one list read instead of one read each. */
const CATCH_UP_READS = 8;

export interface FleetPushHost {
  clock: Clock;
  log: Logger;
  support: DeploymentSupport;
  filter(): string;
  rows(): ReadonlyMap<string, Workspace>;
  bound(): string | undefined;
  isStreamed(id: string): boolean;
  /** The deployment's clock minus the local one (api/serverClock.ts). */
  serverSkewMs(): number;
  /** On screen and expanded in a visible view. */
  inView(id: string): boolean;
  /** Takes a row patched with the push's facts into the sync's rows and the model. */
  patched(row: PatchedRow): void;
  /** A coalesced GET /workspaces/{id}; resolves when done (failures are the host's to handle). */
  read(id: string): Promise<void>;
  /** One list read now (many patched rows came into view at once). */
  resync(): void;
  remove(id: string): void;
  signOut(detail: string): void;
  /** The push opened: the deployment answers. */
  opened(): void;
  restWorks(): Promise<boolean>;
  rungChanged(d: FleetRungDecision): void;
  /** Wraps the push's connects like the other streams' (the reconnect spread). */
  gate?<T>(connect: Connect<T>): Connect<T>;
}

export class FleetPush implements Disposable {
  private status: PushStatus;
  private ownerId: string | undefined;
  private source: FleetPushSource | undefined;
  private sourceSubs = new DisposableStore();
  private readonly pushed = new PushedFleet();
  private pairings = new Map<string, AgentPairing[]>();
  /** Per workspace: agents the push took out of its row, the templates of their successors. */
  private readonly departed = new Map<string, DepartedAgents>();
  /** Rows patched since their last REST read: read when they come into view. */
  private readonly stale = new Set<string>();
  private decision: FleetRungDecision | undefined;
  private timer: TimerHandle | undefined;
  private everOpened = false;
  private failuresBeforeOpen = 0;
  private readonly queue = new Set<string>();
  private reading = 0;
  private disposed = false;

  constructor(
    private readonly host: FleetPushHost,
    private readonly factory: FleetPushFactory | undefined,
  ) {
    this.status = factory ? { kind: 'waiting' } : { kind: 'off' };
  }

  get rung(): FleetRung {
    return this.decide().rung;
  }

  /** After the first list read (or a sign-in): open the push for this user unless it runs or is known refused. */
  begin(ownerId: string): void {
    if (!this.factory || this.disposed) return;
    this.ownerId = ownerId;
    if (this.source || this.status.kind === 'unavailable') return this.update();
    const refused = this.host.support.pushUnavailable(this.host.clock.now());
    if (refused) {
      this.status = { kind: 'unavailable', ...refused };
      this.arm(refused.retryAt - this.host.clock.now(), () => this.retry());
      this.host.log.info(`fleet push: not offered here (${refused.reason}), remembered for this deployment`);
      return this.update();
    }
    this.open(ownerId);
  }

  reconnectNow(): void {
    this.source?.reconnectNow();
  }

  /** Settings or the start changed what serves the fleet: say it if it is another rung or reason. */
  reconsider(): void {
    this.update();
  }

  /**
   * A REST row arrived: agent replacements the push announced for this workspace become
   * agent-ID changes once the row names the new agent (unless the model saw them itself).
   */
  afterRead(ws: Workspace, reported: readonly Change[]): Change[] {
    this.departed.delete(ws.id);
    this.stale.delete(ws.id);
    const waiting = this.pairings.get(ws.id);
    if (!waiting) return [];
    const { changes, waiting: left } = completePairings(waiting, ws, reported);
    if (left.length) this.pairings.set(ws.id, left);
    else this.pairings.delete(ws.id);
    for (const c of changes)
      if (c.kind === 'agent-id-changed')
        this.host.log.info(`fleet push: agent ${c.agentName} of ${ws.name} replaced ${c.oldId} -> ${c.newId}`);
    return changes;
  }

  /** Rows that came into view: those patched out of view are read now (many at once: one list read). */
  cameIntoView(ids: readonly string[]): void {
    const due = ids.filter((id) => this.stale.has(id) && !this.host.isStreamed(id));
    if (due.length === 0) return;
    for (const id of due) this.stale.delete(id);
    if (due.length > CATCH_UP_READS) {
      this.host.log.info(`fleet push: ${due.length} workspaces patched out of view came into view; one list read`);
      return this.host.resync();
    }
    for (const id of due) this.queue.add(id);
    this.pump();
  }

  /** A list read brought every row whole. */
  listed(): void {
    this.stale.clear();
    this.departed.clear();
  }

  /** Sign-out: close the push; begin() after the next sign-in opens it again. */
  stop(): void {
    this.closeSource();
    this.cancelTimer();
    this.queue.clear();
    this.stale.clear();
    this.departed.clear();
    if (this.factory) this.status = { kind: 'waiting' };
    this.update();
  }

  dispose(): void {
    this.disposed = true;
    this.closeSource();
    this.cancelTimer();
    this.queue.clear();
    this.stale.clear();
    this.departed.clear();
  }

  // ---- the source ------------------------------------------------------------------------

  private open(ownerId: string): void {
    this.status = { kind: 'connecting' };
    const host = this.host;
    const source = this.factory!(ownerId, host.gate ? (c) => host.gate!(c) : undefined);
    this.source = source;
    this.sourceSubs.add(source.onState((s) => this.onState(s)));
    this.sourceSubs.add(source.onUpdate((u) => this.onUpdate(u)));
    this.update();
    source.start();
  }

  private closeSource(): void {
    this.sourceSubs.dispose();
    this.sourceSubs = new DisposableStore();
    this.source?.dispose();
    this.source = undefined;
  }

  private retry(): void {
    this.host.log.info('fleet push: trying again');
    this.host.support.markPushSupported();
    if (this.ownerId !== undefined) this.open(this.ownerId);
  }

  private onState(s: FleetPushState): void {
    if (this.disposed) return;
    const now = this.host.clock.now();
    switch (s.kind) {
      case 'open':
        this.host.log.info('fleet push: open');
        this.everOpened = true;
        this.failuresBeforeOpen = 0;
        this.cancelTimer();
        this.host.support.markPushSupported();
        this.status = { kind: 'open' };
        this.host.opened();
        break;
      case 'closed':
        this.host.log.info(`fleet push: closed (${s.reason}); reconnecting`);
        if (this.status.kind !== 'reconnecting') this.status = { kind: 'reconnecting', since: now, reason: s.reason };
        this.arm(PUSH_GRACE_MS - (now - this.status.since), () => this.update());
        if (!this.everOpened && ++this.failuresBeforeOpen === BLOCKED_AFTER_FAILURES) void this.checkBlocked(s.reason);
        break;
      case 'unavailable':
        this.refuse(s.reason);
        return;
      case 'signed-out':
        this.closeSource();
        this.host.signOut(s.detail);
        return;
    }
    this.update();
  }

  private async checkBlocked(reason: string): Promise<void> {
    const rest = await this.host.restWorks();
    if (!rest || this.disposed || this.everOpened || !this.source) return;
    this.refuse(`WebSockets blocked on the way (the upgrade fails: ${reason}; REST answers)`);
  }

  private refuse(reason: string): void {
    const retryAt = this.host.clock.now() + PUSH_RETRY_MS;
    this.host.log.warn(`fleet push: unavailable, ${reason}; the list poll serves the fleet`);
    this.host.support.markPushUnavailable(reason, retryAt);
    this.closeSource();
    this.status = { kind: 'unavailable', reason, retryAt };
    this.arm(PUSH_RETRY_MS, () => this.retry());
    this.update();
  }

  private onUpdate(u: FleetUpdate): void {
    if (this.disposed || this.ownerId === undefined) return;
    const change = this.pushed.apply(u);
    for (const p of change.pairings) {
      const list = (this.pairings.get(p.workspaceId) ?? []).filter((q) => q.name !== p.name);
      this.pairings.set(p.workspaceId, [...list, p]);
    }
    for (const id of change.deleted) {
      this.pairings.delete(id);
      this.departed.delete(id);
      this.stale.delete(id);
    }
    const view = this.view();
    const r = u.snapshot ? reconcileSnapshot(this.pushed, view) : reconcileChange(change, this.pushed, view);
    if (u.snapshot)
      this.host.log.info(
        `fleet push: snapshot of ${this.pushed.ids().length} workspaces, ${r.differing.length} differing, ${r.remove.length} gone`,
      );
    for (const id of r.remove) this.host.remove(id);
    for (const id of r.differing) this.fold(id, view);
    // A pairing whose new agent a REST row brought before the push named it (no patch placed it):
    // the model could not tell that row's agent replaced one. A wanted row is read again, and
    // afterRead() reports the replacement with the parent from that row.
    for (const p of change.pairings)
      if (this.pairings.has(p.workspaceId) && view.rows.has(p.workspaceId) && this.wantsWhole(p.workspaceId)) this.queue.add(p.workspaceId);
    this.pump();
  }

  /** The bound workspace and new agents of a workspace in view are read whole; the rest is patched only. */
  private wantsWhole(id: string): boolean {
    return id === this.host.bound() || this.host.inView(id);
  }

  /** One differing workspace: patch its row with the push's facts, then read it where the patch is not enough. */
  private fold(id: string, view: ModelView): void {
    const row = view.rows.get(id);
    if (!row) return void this.queue.add(id); // a workspace the model lacks: only a read has its row
    const newAgents = arrived(row, this.pushed).length > 0;
    let departed = this.departed.get(id);
    if (!departed) this.departed.set(id, (departed = new DepartedAgents()));
    const waiting = this.pairings.get(id) ?? [];
    const facts = {
      status: this.pushed.status(id) ?? '',
      heardAt: new Date(this.host.clock.now() + this.host.serverSkewMs()).toISOString(),
      agents: this.pushed.agentsOf(id),
      replaced: waiting,
    };
    const patch = patchRow(row, facts, departed);
    if (patch.ws !== row) {
      this.host.patched(patch);
      for (const p of patch.placed)
        this.host.log.info(`fleet push: agent ${p.agent.name} of ${row.name} replaced ${p.old.id} -> ${p.agent.id} (row patched)`);
      const placed = new Set(patch.placed.map((p) => p.agent.id));
      const left = waiting.filter((p) => !placed.has(p.newId));
      if (left.length) this.pairings.set(id, left);
      else this.pairings.delete(id);
    }
    const now = this.host.rows().get(id) ?? patch.ws;
    const why =
      id === this.host.bound()
        ? 'bound'
        : differs(now, this.pushed)
          ? `the push names agents the row cannot place: ${patch.unplaced.join(', ') || 'none'}`
          : newAgents && this.host.inView(id)
            ? 'new agents in view'
            : undefined;
    if (why === undefined) return void this.stale.add(id);
    this.host.log.debug(`fleet push: reading ${row.name} (${why})`);
    this.queue.add(id);
  }

  private view(): ModelView {
    return {
      rows: this.host.rows(),
      myUserId: this.ownerId ?? '',
      bound: this.host.bound(),
      isStreamed: (id) => this.host.isStreamed(id),
      coversList: coversList(this.host.filter()),
    };
  }

  /** Reads a few at a time; a workspace asked for again while waiting is read once. */
  private pump(): void {
    while (this.reading < READ_CONCURRENCY && this.queue.size > 0 && !this.disposed) {
      const id = this.queue.values().next().value!;
      this.queue.delete(id);
      this.reading++;
      void this.host.read(id).finally(() => {
        this.reading--;
        this.pump();
      });
    }
  }

  // ---- the rung --------------------------------------------------------------------------

  private decide(): FleetRungDecision {
    return decideFleetRung(this.status, this.host.filter(), this.host.clock.now(), PUSH_GRACE_MS);
  }

  private update(): void {
    if (this.disposed) return;
    const d = this.decide();
    if (this.decision?.rung === d.rung && this.decision.reason === d.reason) return;
    this.decision = d;
    this.host.rungChanged(d);
  }

  private arm(ms: number, fn: () => void): void {
    this.cancelTimer();
    this.timer = this.host.clock.setTimeout(
      () => {
        this.timer = undefined;
        fn();
      },
      Math.max(0, ms),
    );
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
