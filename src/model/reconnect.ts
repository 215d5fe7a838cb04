/**
 * The reconnect decision for the bound agent, as a state machine on an injected clock.
 *
 * After an agent ID change it waits (bounded) until the new agent is usable, then decides to
 * reconnect, ask, or hold, with a loop cap. Independently, when the bound agent shows the stuck
 * signature (connected, lifecycle `created`) past the threshold, it escalates: lifecycle replay,
 * then reinitialization, then a restart offer, as the deployment allows. It only decides; the
 * UI acts and reports back (repairResult, reconnected, userChoice). Every decision has a reason.
 */
import type { WorkspaceAgent } from '../api/schemas';
import type { Clock, TimerHandle } from '../common/clock';
import { Emitter, type Disposable } from '../common/disposable';
import { formatDuration, isUsable, parseTime, shortId } from './lifecycle';

export interface ReconnectSettings {
  autoReconnect: 'auto' | 'ask' | 'off';
  stuckThresholdMs: number;
  stuckAction: 'ask' | 'replay' | 'reinitialize' | 'none';
  timeoutMs: number;
  maxAutoReconnects: number;
  loopWindowMs: number;
}

export const DEFAULT_RECONNECT_SETTINGS: ReconnectSettings = {
  autoReconnect: 'auto',
  stuckThresholdMs: 20_000,
  stuckAction: 'ask',
  timeoutMs: 30_000,
  maxAutoReconnects: 3,
  loopWindowMs: 600_000,
};

export type RepairOp = 'replay' | 'reinitialize';

interface Target {
  workspaceId: string;
  agentId: string;
  buildNumber: number;
  /** An ID change is waiting to be followed by a reconnect. */
  pendingReconnect: boolean;
}

export type Decision =
  | { kind: 'waiting'; reason: string; workspaceId: string; agentId: string }
  | { kind: 'reconnect'; reason: string; workspaceId: string; agentId: string; buildNumber: number }
  | { kind: 'ask-reconnect'; reason: string; workspaceId: string; agentId: string; buildNumber: number }
  | { kind: 'ask-loop-cap'; reason: string; workspaceId: string; agentId: string; buildNumber: number }
  | { kind: 'hold'; reason: string; workspaceId: string; agentId: string }
  | { kind: 'stuck'; reason: string; agentId: string; sinceMs: number }
  | { kind: 'offer-repair'; reason: string; agentId: string }
  | { kind: 'replay'; reason: string; agentId: string }
  | { kind: 'reinitialize'; reason: string; agentId: string }
  | { kind: 'offer-restart'; reason: string; workspaceId: string; agentId: string }
  | { kind: 'ready'; reason: string; agentId: string }
  | { kind: 'give-up'; reason: string; workspaceId: string };

export type MachineState =
  'idle' | 'waiting-ready' | 'stuck' | 'repairing-replay' | 'repairing-reinitialize' | 'awaiting-user' | 'reconnecting';

export class ReconnectMachine implements Disposable {
  private readonly clock: Clock;
  private settings: ReconnectSettings;
  private readonly decisions = new Emitter<Decision>();
  readonly onDecision = this.decisions.event;
  private phase: MachineState = 'idle';
  private target: Target | undefined;
  private last: WorkspaceAgent | undefined;
  private createdSince: number | undefined;
  private stuckTimer: TimerHandle | undefined;
  private deadline: TimerHandle | undefined;
  private readonly unsupported = new Set<RepairOp>();
  private readonly autoReconnects = new Map<string, number[]>();

  /**
   * `loopHistory`: the automatic reconnects of earlier runs (a reload restarts the extension, so
   * the loop cap only holds across reloads if the times are carried over).
   */
  constructor(opts: { clock: Clock; settings?: Partial<ReconnectSettings>; loopHistory?: Record<string, number[]> }) {
    this.clock = opts.clock;
    this.settings = { ...DEFAULT_RECONNECT_SETTINGS, ...opts.settings };
    for (const [ws, times] of Object.entries(opts.loopHistory ?? {})) {
      if (Array.isArray(times))
        this.autoReconnects.set(
          ws,
          times.filter((t) => typeof t === 'number'),
        );
    }
  }

  /** The automatic reconnects still inside the loop window, to persist across reloads. */
  loopHistory(): Record<string, number[]> {
    const now = this.clock.now();
    const out: Record<string, number[]> = {};
    for (const [ws, times] of this.autoReconnects) {
      const recent = times.filter((t) => now - t < this.settings.loopWindowMs);
      if (recent.length) out[ws] = recent;
    }
    return out;
  }

  get state(): MachineState {
    return this.phase;
  }

  get boundAgentId(): string | undefined {
    return this.target?.agentId;
  }

  updateSettings(s: Partial<ReconnectSettings>): void {
    this.settings = { ...this.settings, ...s };
  }

  /** The deployment answered that it lacks an operation (remembered for this deployment). */
  isUnsupported(op: RepairOp): boolean {
    return this.unsupported.has(op);
  }

  // ---- inputs ---------------------------------------------------------------------------------

  idChanged(e: { workspaceId: string; oldId: string; newId: string; buildNumber: number }): void {
    this.cancelTimers();
    this.target = { workspaceId: e.workspaceId, agentId: e.newId, buildNumber: e.buildNumber, pendingReconnect: true };
    this.last = undefined;
    this.createdSince = undefined;
    this.phase = 'waiting-ready';
    this.emit({
      kind: 'waiting',
      workspaceId: e.workspaceId,
      agentId: e.newId,
      reason: `agent ID changed ${shortId(e.oldId)} -> ${shortId(e.newId)} with build #${e.buildNumber}; waiting up to ${formatDuration(this.settings.timeoutMs)} for it to be usable`,
    });
    this.deadline = this.clock.setTimeout(() => this.timeout('waiting'), this.settings.timeoutMs);
  }

  /** The bound agent's latest row. */
  agentUpdate(workspaceId: string, agent: WorkspaceAgent): void {
    if (this.target && agent.id !== this.target.agentId) {
      if (this.target.pendingReconnect) return; // a row of a superseded agent: the newest id decides
      this.cancelTimers();
      this.phase = 'idle';
      this.target = undefined;
    }
    this.target ??= { workspaceId, agentId: agent.id, buildNumber: 0, pendingReconnect: false };
    this.last = agent;
    this.evaluate(agent);
  }

  /** The latest build of the bound workspace has no agents: nothing to wait for. */
  noAgents(workspaceId: string, buildNumber: number): void {
    if (this.target && this.target.workspaceId !== workspaceId) return;
    this.cancelTimers();
    this.phase = 'idle';
    this.target = undefined;
    this.emit({ kind: 'give-up', workspaceId, reason: `build #${buildNumber} has no agents: nothing to reconnect to` });
  }

  repairResult(r: { op: RepairOp; outcome: 'started' | 'unsupported' | 'failed'; error?: string }): void {
    const t = this.target;
    if (!t || (this.phase !== 'repairing-replay' && this.phase !== 'repairing-reinitialize')) return;
    if (r.outcome === 'started') {
      this.deadline?.cancel();
      this.deadline = this.clock.setTimeout(() => this.timeout(r.op), this.settings.timeoutMs);
      return;
    }
    if (r.outcome === 'unsupported') this.unsupported.add(r.op);
    const why = r.outcome === 'unsupported' ? 'the deployment does not offer it' : `it failed: ${r.error ?? 'unknown error'}`;
    if (r.op === 'replay') this.repair('reinitialize', `lifecycle replay is not possible (${why})`);
    else if (r.outcome === 'unsupported') this.offerRestart(`reinitialization is not possible (${why})`);
    else this.giveUp(`reinitialization ${why}`);
  }

  /** The UI reconnected (reloaded or rebound) to the target. */
  reconnected(): void {
    if (this.target) this.target.pendingReconnect = false;
    this.phase = 'idle';
    this.cancelTimers();
    if (this.last) this.evaluate(this.last); // keep watching for the stuck signature
  }

  /**
   * The UI could not reconnect without the user's consent (unsaved editors) and the user said
   * later: that reconnect never happened, so it leaves the loop history, and the target waits.
   */
  deferred(agentId: string): void {
    const t = this.target;
    if (!t || t.agentId !== agentId) return;
    const times = this.autoReconnects.get(t.workspaceId);
    if (times?.length) this.autoReconnects.set(t.workspaceId, times.slice(0, -1));
    this.userChoice('later', agentId);
  }

  /**
   * The user's answer to a question. `about`: the agent the question was about; an answer that
   * comes after the target moved on (a newer agent, a dismissed stale notification) is ignored.
   */
  userChoice(c: 'reconnect' | 'later' | 'replay' | 'reinitialize' | 'restart', about?: string): void {
    const t = this.target;
    if (!t) return;
    if (about !== undefined && about !== t.agentId) return;
    switch (c) {
      case 'reconnect':
        this.phase = 'reconnecting';
        this.emit({
          kind: 'reconnect',
          workspaceId: t.workspaceId,
          agentId: t.agentId,
          buildNumber: t.buildNumber,
          reason: 'confirmed by the user',
        });
        return;
      case 'later':
        t.pendingReconnect = false;
        this.phase = 'idle';
        this.cancelTimers();
        this.emit({ kind: 'hold', workspaceId: t.workspaceId, agentId: t.agentId, reason: 'the user chose to reconnect later' });
        return;
      case 'replay':
      case 'reinitialize':
        this.repair(c, 'asked by the user');
        return;
      case 'restart':
        this.cancelTimers();
        this.phase = 'idle';
        return;
    }
  }

  dispose(): void {
    this.cancelTimers();
    this.decisions.dispose();
    this.target = undefined;
  }

  // ---- decisions ------------------------------------------------------------------------------

  private evaluate(agent: WorkspaceAgent): void {
    const t = this.target!;
    const connectedCreated = agent.status === 'connected' && agent.lifecycle_state === 'created';
    if (connectedCreated) {
      // The signature starts when the agent connected (server time), not when this model heard of it.
      const connected = parseTime(agent.first_connected_at);
      this.createdSince ??= Math.min(this.clock.now(), connected ?? Infinity);
      if (!this.stuckTimer && (this.phase === 'idle' || this.phase === 'waiting-ready')) {
        const remaining = Math.max(0, this.settings.stuckThresholdMs - (this.clock.now() - this.createdSince));
        this.stuckTimer = this.clock.setTimeout(() => this.stuck(), remaining);
      }
    } else {
      this.createdSince = undefined;
      this.stuckTimer?.cancel();
      this.stuckTimer = undefined;
    }
    const repairing = this.phase === 'repairing-replay' || this.phase === 'repairing-reinitialize';
    if (t.pendingReconnect && (this.phase === 'waiting-ready' || this.phase === 'stuck' || repairing) && isUsable(agent)) {
      this.decideReconnect(agent);
    } else if (
      !t.pendingReconnect &&
      (repairing || this.phase === 'stuck') &&
      agent.status === 'connected' &&
      agent.lifecycle_state === 'ready'
    ) {
      this.cancelTimers();
      this.phase = 'idle';
      this.emit({ kind: 'ready', agentId: agent.id, reason: `agent ${agent.name} is ready again` });
    }
  }

  private decideReconnect(agent: WorkspaceAgent): void {
    const t = this.target!;
    this.cancelTimers();
    const base = { workspaceId: t.workspaceId, agentId: t.agentId, buildNumber: t.buildNumber };
    const what = `agent ${agent.name} (${shortId(agent.id)}) is ${agent.status}, lifecycle ${agent.lifecycle_state}`;
    if (this.settings.autoReconnect === 'off') {
      t.pendingReconnect = false;
      this.phase = 'idle';
      this.emit({ kind: 'hold', ...base, reason: `${what}; coderStatus.autoReconnect is off` });
      return;
    }
    if (this.settings.autoReconnect === 'ask') {
      this.phase = 'awaiting-user';
      this.emit({ kind: 'ask-reconnect', ...base, reason: `${what}; coderStatus.autoReconnect is ask` });
      return;
    }
    const now = this.clock.now();
    const recent = (this.autoReconnects.get(t.workspaceId) ?? []).filter((at) => now - at < this.settings.loopWindowMs);
    if (recent.length >= this.settings.maxAutoReconnects) {
      this.autoReconnects.set(t.workspaceId, recent);
      this.phase = 'awaiting-user';
      this.emit({
        kind: 'ask-loop-cap',
        ...base,
        reason: `${what}; already ${recent.length} automatic reconnects in ${formatDuration(this.settings.loopWindowMs)}`,
      });
      return;
    }
    this.autoReconnects.set(t.workspaceId, [...recent, now]);
    this.phase = 'reconnecting';
    this.emit({ kind: 'reconnect', ...base, reason: `${what} after build #${t.buildNumber}` });
  }

  private stuck(): void {
    this.stuckTimer = undefined;
    const t = this.target;
    const a = this.last;
    if (!t || !a || this.createdSince === undefined) return;
    const sinceMs = this.clock.now() - this.createdSince;
    this.phase = 'stuck';
    this.emit({
      kind: 'stuck',
      agentId: a.id,
      sinceMs,
      reason: `agent ${a.name} is connected but its lifecycle is still "created" after ${formatDuration(sinceMs)}`,
    });
    switch (this.settings.stuckAction) {
      case 'none':
        return;
      case 'ask':
        this.phase = 'awaiting-user';
        this.emit({ kind: 'offer-repair', agentId: a.id, reason: 'coderStatus.stuckAction is ask' });
        return;
      case 'replay':
        return this.repair('replay', 'coderStatus.stuckAction is replay');
      case 'reinitialize':
        return this.repair('reinitialize', 'coderStatus.stuckAction is reinitialize');
    }
  }

  private repair(op: RepairOp, why: string): void {
    const t = this.target;
    if (!t) return;
    if (this.unsupported.has(op)) {
      if (op === 'replay') return this.repair('reinitialize', `${why}; lifecycle replay is not offered by this deployment`);
      return this.offerRestart(`${why}; reinitialization is not offered by this deployment`);
    }
    this.deadline?.cancel();
    this.phase = op === 'replay' ? 'repairing-replay' : 'repairing-reinitialize';
    this.emit({ kind: op, agentId: t.agentId, reason: why });
  }

  private offerRestart(reason: string): void {
    const t = this.target!;
    this.cancelTimers();
    this.phase = 'awaiting-user';
    this.emit({
      kind: 'offer-restart',
      workspaceId: t.workspaceId,
      agentId: t.agentId,
      reason: `${reason}: a restart (stop, then start) is what the public API offers`,
    });
  }

  private timeout(what: 'waiting' | RepairOp): void {
    this.deadline = undefined;
    const limit = formatDuration(this.settings.timeoutMs);
    if (what === 'replay') return this.repair('reinitialize', `lifecycle replay did not bring the agent to ready within ${limit}`);
    if (what === 'reinitialize') return this.offerRestart(`reinitialization did not bring the agent to ready within ${limit}`);
    this.giveUp(`the new agent was not usable ${limit} after the ID change`);
  }

  private giveUp(reason: string): void {
    const t = this.target;
    this.cancelTimers();
    this.phase = 'idle';
    if (t) t.pendingReconnect = false;
    this.emit({ kind: 'give-up', workspaceId: t?.workspaceId ?? '', reason });
  }

  private cancelTimers(): void {
    this.stuckTimer?.cancel();
    this.stuckTimer = undefined;
    this.deadline?.cancel();
    this.deadline = undefined;
  }

  private emit(d: Decision): void {
    this.decisions.fire(d);
  }
}

/** Reloading with unsaved editors is only safe when VS Code's hot exit keeps them. */
export function reloadSafety(opts: { dirtyCount: number; hotExit: string }): 'safe' | 'ask' {
  return opts.dirtyCount > 0 && opts.hotExit === 'off' ? 'ask' : 'safe';
}
