/**
 * The reconnect decision for the bound agent, as a pure reducer: (state, event) -> (state, decisions).
 *
 * After an agent ID change it waits (bounded) until the new agent is usable, then decides to
 * reconnect, ask, or hold, with a loop cap. Independently, when the bound agent shows the stuck
 * signature (connected, lifecycle `created`) past the threshold, it escalates: lifecycle replay,
 * then reinitialization, then a restart offer, as the deployment allows. It only decides; the
 * driver acts and reports back (repair-result, reconnected, user-choice). Every decision has a
 * reason. Timers are deadlines in the state: the driver arms one clock timer for
 * `nextDeadline(state)` and sends `tick` when it fires.
 */
import type { WorkspaceAgent } from '../api/schemas';
import { formatDuration, isUsable, shortId, stuckStart } from './lifecycle';
import type { RepairOp } from './operations';
import type {
  Decision,
  ReconnectEvent,
  ReconnectInput,
  ReconnectSettings,
  ReconnectState,
  ReconnectStep,
  UserChoice,
} from './reconnectState';

export * from './reconnectState';

/** The whole behaviour of the reconnect decision, as a function of its state and one event. */
export function reduceReconnect(state: ReconnectState, event: ReconnectEvent, input: ReconnectInput): ReconnectStep {
  const s: ReconnectState = {
    ...state,
    ...(state.target ? { target: { ...state.target } } : {}),
    ...(state.deadline ? { deadline: { ...state.deadline } } : {}),
    autoReconnects: { ...state.autoReconnects },
  };
  const step = new Step(s, input);
  step.on(event);
  return { state: s, decisions: step.decisions };
}

/** One reduction over a private copy of the state. */
class Step {
  readonly decisions: Decision[] = [];

  constructor(
    private readonly s: ReconnectState,
    private readonly input: ReconnectInput,
  ) {}

  private get settings(): ReconnectSettings {
    return this.input.settings;
  }

  private get now(): number {
    return this.input.now;
  }

  on(e: ReconnectEvent): void {
    switch (e.type) {
      case 'id-changed':
        return this.idChanged(e);
      case 'agent-update':
        return this.agentUpdate(e.workspaceId, e.agent);
      case 'no-agents':
        if (this.s.target && this.s.target.workspaceId !== e.workspaceId) return;
        this.cancelTimers();
        this.s.phase = 'idle';
        delete this.s.target;
        return this.emit({
          kind: 'give-up',
          workspaceId: e.workspaceId,
          reason: `build #${e.buildNumber} has no agents: nothing to reconnect to`,
        });
      case 'repair-result':
        return this.repairResult(e);
      case 'reconnected':
        if (this.s.target) this.s.target.pendingReconnect = false;
        this.s.phase = 'idle';
        this.cancelTimers();
        if (this.s.last) this.evaluate(this.s.last); // keep watching for the stuck signature
        return;
      case 'deferred': {
        const t = this.s.target;
        if (!t || t.agentId !== e.agentId) return;
        const times = this.s.autoReconnects[t.workspaceId];
        if (times?.length) this.s.autoReconnects[t.workspaceId] = times.slice(0, -1);
        return this.userChoice('later', e.agentId);
      }
      case 'user-choice':
        return this.userChoice(e.choice, e.about);
      case 'tick':
        return this.tick();
      case 'stop':
        this.cancelTimers();
        delete this.s.target;
        return;
    }
  }

  private idChanged(e: { workspaceId: string; oldId: string; newId: string; buildNumber: number }): void {
    this.cancelTimers();
    this.s.target = { workspaceId: e.workspaceId, agentId: e.newId, buildNumber: e.buildNumber, pendingReconnect: true };
    delete this.s.last;
    delete this.s.createdSeenAt;
    delete this.s.createdSince;
    this.s.phase = 'waiting-ready';
    this.emit({
      kind: 'waiting',
      workspaceId: e.workspaceId,
      agentId: e.newId,
      reason: `agent ID changed ${shortId(e.oldId)} -> ${shortId(e.newId)} with build #${e.buildNumber}; waiting up to ${formatDuration(this.settings.timeoutMs)} for it to be usable`,
    });
    this.s.deadline = { at: this.now + this.settings.timeoutMs, what: 'waiting' };
  }

  private agentUpdate(workspaceId: string, agent: WorkspaceAgent): void {
    if (this.s.target && agent.id !== this.s.target.agentId) {
      if (this.s.target.pendingReconnect) return; // a row of a superseded agent: the newest id decides
      this.cancelTimers();
      this.s.phase = 'idle';
      delete this.s.target;
    }
    this.s.target ??= { workspaceId, agentId: agent.id, buildNumber: 0, pendingReconnect: false };
    this.s.last = agent;
    this.evaluate(agent);
  }

  private repairResult(r: { op: RepairOp; outcome: 'started' | 'unsupported' | 'failed'; error?: string }): void {
    if (!this.s.target || (this.s.phase !== 'repairing-replay' && this.s.phase !== 'repairing-reinitialize')) return;
    if (r.outcome === 'started') {
      this.s.deadline = { at: this.now + this.settings.timeoutMs, what: r.op };
      return;
    }
    const why = r.outcome === 'unsupported' ? 'the deployment does not offer it' : `it failed: ${r.error ?? 'unknown error'}`;
    if (r.op === 'replay') this.repair('reinitialize', `lifecycle replay is not possible (${why})`);
    else if (r.outcome === 'unsupported') this.offerRestart(`reinitialization is not possible (${why})`);
    else this.giveUp(`reinitialization ${why}`);
  }

  private userChoice(c: UserChoice, about?: string): void {
    const t = this.s.target;
    if (!t) return;
    if (about !== undefined && about !== t.agentId) return;
    switch (c) {
      case 'reconnect':
        this.s.phase = 'reconnecting';
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
        this.s.phase = 'idle';
        this.cancelTimers();
        this.emit({ kind: 'hold', workspaceId: t.workspaceId, agentId: t.agentId, reason: 'the user chose to reconnect later' });
        return;
      case 'replay':
      case 'reinitialize':
        this.repair(c, 'asked by the user');
        return;
      case 'restart':
        this.cancelTimers();
        this.s.phase = 'idle';
        return;
    }
  }

  private tick(): void {
    // Due deadlines in time order; on a tie the wait's deadline first (it was armed first).
    for (;;) {
      const stuck = this.s.stuckAt !== undefined && this.s.stuckAt <= this.now ? this.s.stuckAt : Infinity;
      const d = this.s.deadline && this.s.deadline.at <= this.now ? this.s.deadline : undefined;
      if (d && d.at <= stuck) {
        delete this.s.deadline;
        this.timeout(d.what);
      } else if (stuck !== Infinity) {
        delete this.s.stuckAt;
        this.stuck();
      } else return;
    }
  }

  private evaluate(agent: WorkspaceAgent): void {
    const t = this.s.target!;
    const connectedCreated = agent.status === 'connected' && agent.lifecycle_state === 'created';
    if (connectedCreated) {
      // The signature starts when the agent connected (server time), not when this model heard of it.
      // Computed again on every row: the clock skew may only be measured after the first one.
      this.s.createdSeenAt ??= this.now;
      this.s.createdSince = stuckStart(agent, this.input.skewMs, this.s.createdSeenAt) ?? this.s.createdSeenAt;
      if (this.s.phase === 'idle' || this.s.phase === 'waiting-ready') {
        this.s.stuckAt = Math.max(this.now, this.s.createdSince + this.settings.stuckThresholdMs);
      }
    } else {
      delete this.s.createdSeenAt;
      delete this.s.createdSince;
      delete this.s.stuckAt;
    }
    const repairing = this.s.phase === 'repairing-replay' || this.s.phase === 'repairing-reinitialize';
    if (t.pendingReconnect && (this.s.phase === 'waiting-ready' || this.s.phase === 'stuck' || repairing) && isUsable(agent)) {
      this.decideReconnect(agent);
    } else if (
      !t.pendingReconnect &&
      (repairing || this.s.phase === 'stuck') &&
      agent.status === 'connected' &&
      agent.lifecycle_state === 'ready'
    ) {
      this.cancelTimers();
      this.s.phase = 'idle';
      this.emit({ kind: 'ready', agentId: agent.id, reason: `agent ${agent.name} is ready again` });
    }
  }

  private decideReconnect(agent: WorkspaceAgent): void {
    const t = this.s.target!;
    this.cancelTimers();
    const base = { workspaceId: t.workspaceId, agentId: t.agentId, buildNumber: t.buildNumber };
    const what = `agent ${agent.name} (${shortId(agent.id)}) is ${agent.status}, lifecycle ${agent.lifecycle_state}`;
    if (this.settings.autoReconnect === 'off') {
      t.pendingReconnect = false;
      this.s.phase = 'idle';
      this.emit({ kind: 'hold', ...base, reason: `${what}; coderStatus.autoReconnect is off` });
      return;
    }
    if (this.settings.autoReconnect === 'ask') {
      this.s.phase = 'awaiting-user';
      this.emit({ kind: 'ask-reconnect', ...base, reason: `${what}; coderStatus.autoReconnect is ask` });
      return;
    }
    const recent = (this.s.autoReconnects[t.workspaceId] ?? []).filter((at) => this.now - at < this.settings.loopWindowMs);
    if (recent.length >= this.settings.maxAutoReconnects) {
      this.s.autoReconnects[t.workspaceId] = recent;
      this.s.phase = 'awaiting-user';
      this.emit({
        kind: 'ask-loop-cap',
        ...base,
        reason: `${what}; already ${recent.length} automatic reconnects in ${formatDuration(this.settings.loopWindowMs)}`,
      });
      return;
    }
    this.s.autoReconnects[t.workspaceId] = [...recent, this.now];
    this.s.phase = 'reconnecting';
    this.emit({ kind: 'reconnect', ...base, reason: `${what} after build #${t.buildNumber}` });
  }

  private stuck(): void {
    const t = this.s.target;
    const a = this.s.last;
    if (!t || !a || this.s.createdSince === undefined) return;
    const sinceMs = this.now - this.s.createdSince;
    this.s.phase = 'stuck';
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
        this.s.phase = 'awaiting-user';
        this.emit({ kind: 'offer-repair', agentId: a.id, reason: 'coderStatus.stuckAction is ask' });
        return;
      case 'replay':
        return this.repair('replay', 'coderStatus.stuckAction is replay');
      case 'reinitialize':
        return this.repair('reinitialize', 'coderStatus.stuckAction is reinitialize');
    }
  }

  private repair(op: RepairOp, why: string): void {
    const t = this.s.target;
    if (!t) return;
    if (this.input.support(op) === 'unsupported') {
      if (op === 'replay') return this.repair('reinitialize', `${why}; lifecycle replay is not offered by this deployment`);
      return this.offerRestart(`${why}; reinitialization is not offered by this deployment`);
    }
    delete this.s.deadline;
    this.s.phase = op === 'replay' ? 'repairing-replay' : 'repairing-reinitialize';
    this.emit({ kind: op, agentId: t.agentId, reason: why });
  }

  private offerRestart(reason: string): void {
    const t = this.s.target!;
    this.cancelTimers();
    this.s.phase = 'awaiting-user';
    this.emit({
      kind: 'offer-restart',
      workspaceId: t.workspaceId,
      agentId: t.agentId,
      reason: `${reason}: a restart (stop, then start) is what the public API offers`,
    });
  }

  private timeout(what: 'waiting' | RepairOp): void {
    const limit = formatDuration(this.settings.timeoutMs);
    if (what === 'replay') return this.repair('reinitialize', `lifecycle replay did not bring the agent to ready within ${limit}`);
    if (what === 'reinitialize') return this.offerRestart(`reinitialization did not bring the agent to ready within ${limit}`);
    this.giveUp(`the new agent was not usable ${limit} after the ID change`);
  }

  private giveUp(reason: string): void {
    const t = this.s.target;
    this.cancelTimers();
    this.s.phase = 'idle';
    if (t) t.pendingReconnect = false;
    this.emit({ kind: 'give-up', workspaceId: t?.workspaceId ?? '', reason });
  }

  private cancelTimers(): void {
    delete this.s.stuckAt;
    delete this.s.deadline;
  }

  private emit(d: Decision): void {
    this.decisions.push(d);
  }
}

/** Reloading with unsaved editors is only safe when VS Code's hot exit keeps them. */
export function reloadSafety(opts: { dirtyCount: number; hotExit: string }): 'safe' | 'ask' {
  return opts.dirtyCount > 0 && opts.hotExit === 'off' ? 'ask' : 'safe';
}
