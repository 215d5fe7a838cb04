import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../doubles/manualClock';
import { OperationSupport } from '../../../src/model/operations';
import {
  DEFAULT_RECONNECT_SETTINGS,
  initialReconnectState,
  loopHistoryOf,
  nextDeadline,
  reduceReconnect,
  reloadSafety,
  type Decision,
  type ReconnectEvent,
  type ReconnectSettings,
  type ReconnectState,
  type RepairOp,
  type UserChoice,
} from '../../../src/model/reconnect';
import { ReconnectRunner } from '../../../src/sync/reconnectRunner';
import type { WorkspaceAgent } from '../../../src/api/schemas';
import { agent } from './fixtures';

const WS = 'ws-1';
const DEPLOYMENT = 'https://coder.example.com';
const START = Date.UTC(2026, 0, 1);
const blocking = [
  { display_name: 'deps', start_blocks_login: true, run_on_start: true, run_on_stop: false, timeout: 0, log_source_id: null },
];

/**
 * The reducer with the driver's duties done by hand: the time moves only in `advance`, which
 * sends `tick` at every deadline the state asks for, in order.
 */
function setup(settings: Partial<ReconnectSettings> = {}, opts: { now?: number; loopHistory?: unknown } = {}) {
  const full = { ...DEFAULT_RECONNECT_SETTINGS, ...settings };
  const operations = new OperationSupport();
  let now = opts.now ?? START;
  let state: ReconnectState = initialReconnectState(opts.loopHistory);
  const decisions: Decision[] = [];
  const send = (e: ReconnectEvent) => {
    const step = reduceReconnect(state, e, { now, settings: full, support: (op) => operations.get(DEPLOYMENT, op) });
    state = step.state;
    decisions.push(...step.decisions);
  };
  const m = {
    advance(ms: number) {
      const target = now + ms;
      for (let at = nextDeadline(state); at !== undefined && at <= target; at = nextDeadline(state)) {
        now = Math.max(now, at);
        send({ type: 'tick' });
      }
      now = target;
    },
    update: (a: WorkspaceAgent) => send({ type: 'agent-update', workspaceId: WS, agent: a }),
    noAgents: (buildNumber: number) => send({ type: 'no-agents', workspaceId: WS, buildNumber }),
    repairResult: (r: { op: RepairOp; outcome: 'started' | 'unsupported' | 'failed' }) => {
      // As the repair runner does: the deployment's answer is remembered before it is reported.
      if (r.outcome === 'unsupported') operations.record(DEPLOYMENT, r.op, 'unsupported');
      send({ type: 'repair-result', ...r });
    },
    reconnected: () => send({ type: 'reconnected' }),
    deferred: (agentId: string) => send({ type: 'deferred', agentId }),
    userChoice: (choice: UserChoice, about?: string) => send({ type: 'user-choice', choice, ...(about !== undefined ? { about } : {}) }),
    get phase() {
      return state.phase;
    },
    get state() {
      return state;
    },
    loopHistory: () => loopHistoryOf(state, now, full),
  };
  const kinds = () => decisions.map((d) => d.kind);
  const change = (newId: string, buildNumber = 2) =>
    send({ type: 'id-changed', workspaceId: WS, oldId: 'old-agent-id', newId, buildNumber });
  return { m, operations, decisions, kinds, change, clock: m };
}

const row = (a: WorkspaceAgent, over: Partial<WorkspaceAgent>): WorkspaceAgent => ({ ...a, ...over });

test('ID change -> connecting -> ready -> one reconnect', () => {
  const { m, kinds, change, decisions } = setup();
  const a = agent({ status: 'connecting', lifecycle_state: 'created', scripts: blocking });
  change(a.id, 42);
  m.update(a);
  m.update(row(a, { status: 'connected', lifecycle_state: 'starting' }));
  assert.deepEqual(kinds(), ['waiting'], 'blocking scripts: starting is not usable');
  m.update(row(a, { status: 'connected', lifecycle_state: 'ready' }));
  assert.deepEqual(kinds(), ['waiting', 'reconnect']);
  const d = decisions[1]!;
  assert.equal(d.kind === 'reconnect' && d.buildNumber, 42);
  assert.equal(m.phase, 'reconnecting');
  m.update(row(a, { status: 'connected', lifecycle_state: 'ready' }));
  assert.deepEqual(kinds(), ['waiting', 'reconnect'], 'no second decision');
  m.reconnected();
  assert.equal(m.phase, 'idle');
});

test('non-blocking startup: connected and starting is already usable', () => {
  const { m, kinds, change } = setup();
  const a = agent({ status: 'connected', lifecycle_state: 'starting' });
  change(a.id);
  m.update(a);
  assert.deepEqual(kinds(), ['waiting', 'reconnect']);
});

test('stuck (connected + created) with blocking scripts -> replay -> ready -> reconnect', () => {
  const { m, kinds, change, clock, decisions } = setup({ stuckAction: 'replay', stuckThresholdMs: 20_000 });
  const a = agent({ status: 'connected', lifecycle_state: 'created', scripts: blocking });
  change(a.id);
  m.update(a);
  clock.advance(19_999);
  assert.deepEqual(kinds(), ['waiting']);
  clock.advance(1);
  assert.deepEqual(kinds(), ['waiting', 'stuck', 'replay']);
  assert.equal((decisions[1] as { sinceMs: number }).sinceMs, 20_000);
  m.repairResult({ op: 'replay', outcome: 'started' });
  m.update(row(a, { lifecycle_state: 'starting' }));
  m.update(row(a, { lifecycle_state: 'ready' }));
  assert.deepEqual(kinds(), ['waiting', 'stuck', 'replay', 'reconnect']);
});

test('replay that does not reach ready in time -> reinitialize -> restart offer', () => {
  const { m, kinds, change, clock } = setup({ stuckAction: 'replay', stuckThresholdMs: 1000, timeoutMs: 30_000 });
  const a = agent({ status: 'connected', lifecycle_state: 'created', scripts: blocking });
  change(a.id);
  m.update(a);
  clock.advance(1000);
  m.repairResult({ op: 'replay', outcome: 'started' });
  clock.advance(30_000);
  assert.deepEqual(kinds().slice(-1), ['reinitialize']);
  m.repairResult({ op: 'reinitialize', outcome: 'started' });
  clock.advance(30_000);
  assert.deepEqual(kinds().slice(-1), ['offer-restart']);
  assert.equal(m.phase, 'awaiting-user');
});

test('operations the deployment lacks: replay unsupported -> reinitialize unsupported -> restart offer, remembered', () => {
  const { m, kinds, change, clock, operations } = setup({ stuckAction: 'replay', stuckThresholdMs: 1000 });
  const a = agent({ status: 'connected', lifecycle_state: 'created', scripts: blocking });
  change(a.id);
  m.update(a);
  clock.advance(1000);
  m.repairResult({ op: 'replay', outcome: 'unsupported' });
  m.repairResult({ op: 'reinitialize', outcome: 'unsupported' });
  assert.deepEqual(kinds(), ['waiting', 'stuck', 'replay', 'reinitialize', 'offer-restart']);
  assert.ok(operations.get(DEPLOYMENT, 'replay') === 'unsupported' && operations.get(DEPLOYMENT, 'reinitialize') === 'unsupported');
  const b = agent({ status: 'connected', lifecycle_state: 'created', scripts: blocking });
  change(b.id, 3);
  m.update(b);
  clock.advance(1000);
  assert.deepEqual(kinds().slice(-3), ['waiting', 'stuck', 'offer-restart'], 'straight to the restart offer next time');
});

test('stuckAction ask offers a repair; the user picks reinitialize', () => {
  const { m, kinds, change, clock } = setup({ stuckThresholdMs: 500 });
  const a = agent({ status: 'connected', lifecycle_state: 'created', scripts: blocking });
  change(a.id);
  m.update(a);
  clock.advance(500);
  assert.deepEqual(kinds(), ['waiting', 'stuck', 'offer-repair']);
  m.userChoice('reinitialize');
  assert.deepEqual(kinds().slice(-1), ['reinitialize']);
});

test('stuck detection also applies without an ID change, and recovery says ready', () => {
  const { m, kinds, clock } = setup({ stuckAction: 'replay', stuckThresholdMs: 500 });
  const a = agent({ status: 'connected', lifecycle_state: 'created' });
  m.update(a);
  clock.advance(500);
  assert.deepEqual(kinds(), ['stuck', 'replay']);
  m.repairResult({ op: 'replay', outcome: 'started' });
  m.update(row(a, { lifecycle_state: 'ready' }));
  assert.deepEqual(kinds(), ['stuck', 'replay', 'ready']);
  assert.equal(m.phase, 'idle');
});

test('no agents in the latest build fails fast; not usable in time gives up', () => {
  const one = setup();
  one.change('x');
  one.m.noAgents(7);
  assert.deepEqual(one.kinds(), ['waiting', 'give-up']);
  assert.match(one.decisions[1]!.reason, /#7 has no agents/);
  const two = setup({ timeoutMs: 30_000 });
  const a = agent({ status: 'connecting', lifecycle_state: 'created' });
  two.change(a.id);
  two.m.update(a);
  two.clock.advance(30_000);
  assert.deepEqual(two.kinds(), ['waiting', 'give-up']);
  assert.match(two.decisions[1]!.reason, /30s/);
});

test('loop cap: the 4th automatic reconnect within 10 minutes asks; after the window it is automatic again', () => {
  const { m, kinds, change, clock } = setup();
  for (let i = 0; i < 4; i++) {
    const a = agent({ status: 'connected', lifecycle_state: 'ready' });
    change(a.id, 10 + i);
    m.update(a);
    m.reconnected();
    clock.advance(60_000);
  }
  assert.deepEqual(
    kinds().filter((k) => k !== 'waiting'),
    ['reconnect', 'reconnect', 'reconnect', 'ask-loop-cap'],
  );
  clock.advance(600_000);
  const a = agent({ status: 'connected', lifecycle_state: 'ready' });
  change(a.id, 20);
  m.update(a);
  assert.deepEqual(kinds().slice(-1), ['reconnect']);
});

test('autoReconnect ask and off', () => {
  const ask = setup({ autoReconnect: 'ask' });
  const a = agent();
  ask.change(a.id);
  ask.m.update(a);
  assert.deepEqual(ask.kinds(), ['waiting', 'ask-reconnect']);
  ask.m.userChoice('reconnect');
  assert.deepEqual(ask.kinds().slice(-1), ['reconnect']);
  const off = setup({ autoReconnect: 'off' });
  off.change(a.id);
  off.m.update(a);
  assert.deepEqual(off.kinds(), ['waiting', 'hold']);
  assert.match(off.decisions[1]!.reason, /autoReconnect is off/);
});

test('flapping IDs: only the newest agent decides', () => {
  const { m, kinds, change, decisions } = setup();
  const first = agent({ status: 'connecting', lifecycle_state: 'created' });
  const second = agent({ status: 'connecting', lifecycle_state: 'created' });
  change(first.id, 2);
  m.update(first);
  change(second.id, 3);
  m.update(row(first, { status: 'connected', lifecycle_state: 'ready' }));
  assert.deepEqual(kinds(), ['waiting', 'waiting'], 'a superseded agent becoming ready decides nothing');
  m.update(row(second, { status: 'connected', lifecycle_state: 'ready' }));
  const d = decisions[2]!;
  assert.equal(d.kind, 'reconnect');
  assert.equal(d.kind === 'reconnect' && d.agentId, second.id);
});

test('dispose leaves no timer behind', () => {
  const clock = new ManualClock();
  const runner = new ReconnectRunner({ clock });
  const a = agent({ status: 'connected', lifecycle_state: 'created', scripts: blocking });
  runner.dispatch({ type: 'id-changed', workspaceId: WS, oldId: 'old-agent-id', newId: a.id, buildNumber: 2 });
  runner.dispatch({ type: 'agent-update', workspaceId: WS, agent: a });
  assert.ok(clock.pendingTimers() > 0);
  runner.dispose();
  assert.equal(clock.pendingTimers(), 0);
});

test('reload safety: dirty editors with hot exit off must ask', () => {
  assert.equal(reloadSafety({ dirtyCount: 1, hotExit: 'off' }), 'ask');
  assert.equal(reloadSafety({ dirtyCount: 1, hotExit: 'onExit' }), 'safe');
  assert.equal(reloadSafety({ dirtyCount: 0, hotExit: 'off' }), 'safe');
});

test('the loop cap holds across reloads through the persisted history', () => {
  let now = START;
  const history: Record<string, number[]> = {};
  let decided: string[] = [];
  for (let run = 0; run < 4; run++) {
    const { m, kinds, change } = setup({}, { now, loopHistory: JSON.parse(JSON.stringify(history)) });
    const a = agent();
    change(a.id, run);
    m.update(a);
    Object.assign(history, m.loopHistory());
    decided = [...decided, ...kinds()];
    now += 10_000;
  }
  decided = decided.filter((k) => k !== 'waiting');
  assert.deepEqual(decided, ['reconnect', 'reconnect', 'reconnect', 'ask-loop-cap']);
});

test('a reconnect the user deferred (unsaved editors) does not count toward the loop cap', () => {
  const { m, kinds, change } = setup();
  for (let i = 1; i <= 5; i++) {
    const a = agent({ id: `agent-${i}`, status: 'connected', lifecycle_state: 'ready' });
    change(a.id, i);
    m.update(a);
    assert.equal(kinds().at(-1), 'reconnect', `reconnect ${i} is automatic`);
    m.deferred(a.id);
    assert.equal(kinds().at(-1), 'hold');
  }
  assert.deepEqual(m.loopHistory(), {});
});

test('an answer about an agent that is no longer the target is ignored', () => {
  const { m, kinds, change } = setup({ autoReconnect: 'ask' });
  const first = agent({ id: 'agent-1', status: 'connected', lifecycle_state: 'ready' });
  change(first.id, 1);
  m.update(first);
  const second = agent({ id: 'agent-2', status: 'connected', lifecycle_state: 'ready' });
  change(second.id, 2);
  m.update(second);
  assert.deepEqual(kinds(), ['waiting', 'ask-reconnect', 'waiting', 'ask-reconnect']);
  m.userChoice('later', first.id); // the first question's notification, closed by the second
  m.deferred(first.id);
  assert.equal(m.phase, 'awaiting-user', 'the question about the new agent is still open');
  m.userChoice('reconnect', second.id);
  assert.deepEqual(kinds().slice(-1), ['reconnect']);
});

test('the state is plain data: a step leaves its input untouched and survives a JSON round trip', () => {
  const before = initialReconnectState();
  const a = agent({ status: 'connected', lifecycle_state: 'created', scripts: blocking });
  const input = { now: START, settings: DEFAULT_RECONNECT_SETTINGS, support: () => 'unknown' as const };
  const one = reduceReconnect(before, { type: 'id-changed', workspaceId: WS, oldId: 'x', newId: a.id, buildNumber: 2 }, input);
  assert.deepEqual(before, initialReconnectState(), 'the input state is not mutated');
  const two = reduceReconnect(one.state, { type: 'agent-update', workspaceId: WS, agent: a }, input);
  assert.equal(one.state.target?.pendingReconnect, true);
  const copy = JSON.parse(JSON.stringify(two.state)) as ReconnectState;
  assert.deepEqual(copy, two.state);
  assert.equal(nextDeadline(copy), START + DEFAULT_RECONNECT_SETTINGS.stuckThresholdMs, 'the stuck deadline comes first');
});
