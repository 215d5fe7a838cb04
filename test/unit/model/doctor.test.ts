import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  diagnose,
  mainCause,
  noteStuckBuild,
  observeStuck,
  parseStuckRecord,
  parseVersion,
  restartHelps,
  type DoctorInput,
} from '../../../src/model/doctor';
import type { AgentScript } from '../../../src/api/schemas';
import { agent, workspace } from './fixtures';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const script = (over: Partial<AgentScript>): AgentScript => ({
  id: 's',
  display_name: 'script',
  log_source_id: 'src-1',
  run_on_start: true,
  run_on_stop: false,
  start_blocks_login: false,
  timeout: 0,
  exit_code: null,
  status: null,
  ...over,
});

function input(over: Partial<DoctorInput> & Pick<DoctorInput, 'workspace'>): DoctorInput {
  const a = over.agent ?? over.workspace.latest_build.resources[0]!.agents[0]!;
  return { now: T0 + 60_000, stuckThresholdMs: 20_000, ...over, agent: a };
}

const stuckAgent = () =>
  agent({ lifecycle_state: 'created', started_at: null, ready_at: null, first_connected_at: '2026-01-01T00:00:01Z' });

test('connected at created past the threshold after an ID change: the process survived the build (18571); a restart may help', () => {
  const a = stuckAgent();
  const ws = workspace({ build: 3, agents: [a] });
  const [d, ...rest] = diagnose(input({ workspace: ws, previousAgentId: 'old-id' }));
  assert.equal(rest.length, 0);
  assert.equal(d?.code, 'survived-build');
  assert.equal(d?.fix, 'restart');
  assert.equal(d?.restartHelps, true);
  assert.equal(d?.values.previousAgentId, 'old-id');
  assert.equal(d?.values.build, 3);
  assert.equal(d?.values.stuckForMs, 59_000);
  // Under the threshold it is not a diagnosis yet.
  assert.deepEqual(diagnose(input({ workspace: ws, now: T0 + 10_000 })), []);
  // On a first build there was no ID change to survive.
  assert.equal(diagnose(input({ workspace: workspace({ build: 1, agents: [stuckAgent()] }) }))[0]?.code, 'lifecycle-not-reported');
});

test('the same again on a later build of the workspace: a restart does not help on this template; the template must restart the agent', () => {
  const ws = workspace({ build: 5, agents: [stuckAgent()] });
  let record = noteStuckBuild(undefined, 3, T0);
  record = noteStuckBuild(record, 5, T0 + 1); // the current build is recorded too; only earlier ones count
  const ds = diagnose(input({ workspace: ws, record }));
  assert.equal(ds[0]?.code, 'survives-restarts');
  assert.equal(ds[0]?.fix, 'template-restarts-agent');
  assert.equal(ds[0]?.values.earlierBuild, 3);
  assert.equal(ds[0]?.values.times, 2);
  assert.equal(ds[0]?.restartHelps, false);
  assert.equal(restartHelps(ds), false);
  // A record of this very build only (a reload during it) is not a repeat.
  assert.equal(diagnose(input({ workspace: ws, record: noteStuckBuild(undefined, 5, T0) }))[0]?.code, 'survived-build');
});

test('connecting or timeout past connection_timeout_seconds: never connected, with the troubleshooting link and the build log', () => {
  const a = agent({
    status: 'connecting',
    lifecycle_state: 'created',
    first_connected_at: null,
    last_connected_at: null,
    connection_timeout_seconds: 30,
    troubleshooting_url: 'https://coder.com/docs/troubleshoot',
  });
  const ws = workspace({ build: 2, agents: [a] });
  const [d] = diagnose(input({ workspace: ws, now: T0 + 45_000 }));
  assert.equal(d?.code, 'never-connected');
  assert.equal(d?.fix, 'check-build-log');
  assert.equal(d?.link, 'https://coder.com/docs/troubleshoot');
  assert.deepEqual(d?.log, { kind: 'build', buildId: ws.latest_build.id });
  assert.equal(d?.values.timeoutSeconds, 30);
  assert.equal(d?.values.waitedMs, 45_000);
  assert.deepEqual(diagnose(input({ workspace: ws, now: T0 + 10_000 })), [], 'still inside the timeout');
  const t = agent({ ...a, status: 'timeout' });
  assert.equal(diagnose(input({ workspace: workspace({ agents: [t] }), agent: t, now: T0 + 10_000 }))[0]?.code, 'never-connected');
});

test('start_error: the script that failed, by exit_code and status, and its log source', () => {
  const a = agent({
    lifecycle_state: 'start_error',
    scripts: [
      script({ display_name: 'Install tools', log_source_id: 'src-ok', status: 'ok', exit_code: 0 }),
      script({ display_name: 'Clone repo', log_source_id: 'src-clone', status: 'exit_failure', exit_code: 128 }),
    ],
  });
  const [d] = diagnose(input({ workspace: workspace({ agents: [a] }) }));
  assert.equal(d?.code, 'startup-script-failed');
  assert.equal(d?.fix, 'fix-script');
  assert.equal(d?.values.scripts, 'Clone repo');
  assert.equal(d?.values.exitCode, 128);
  assert.equal(d?.values.reported, 1);
  assert.deepEqual(d?.log, { kind: 'agent', agentId: a.id, sourceId: 'src-clone' });
});

test('start_error on a deployment that sends no outcomes: the scripts that block login', () => {
  const a = agent({
    lifecycle_state: 'start_error',
    scripts: [
      script({ display_name: 'Dotfiles', log_source_id: 'src-dot' }),
      script({ display_name: 'Install tools', log_source_id: 'src-tools', start_blocks_login: true }),
    ],
  });
  const [d] = diagnose(input({ workspace: workspace({ agents: [a] }) }));
  assert.equal(d?.values.scripts, 'Install tools');
  assert.equal(d?.values.reported, 0);
  assert.equal(d?.values.exitCode, undefined);
  assert.deepEqual(d?.log, { kind: 'agent', agentId: a.id, sourceId: 'src-tools' });
});

test('start_timeout: the script that ran over, with its timeout', () => {
  const a = agent({
    lifecycle_state: 'start_timeout',
    scripts: [
      script({ display_name: 'Fast', status: 'ok', exit_code: 0 }),
      script({ display_name: 'Warm cache', log_source_id: 'src-cache', status: 'timed_out', timeout: 300 }),
    ],
  });
  const [d] = diagnose(input({ workspace: workspace({ agents: [a] }) }));
  assert.equal(d?.code, 'startup-script-timed-out');
  assert.equal(d?.values.scripts, 'Warm cache');
  assert.equal(d?.values.timeoutSeconds, 300);
  assert.deepEqual(d?.log, { kind: 'agent', agentId: a.id, sourceId: 'src-cache' });
});

test('disconnected: since last_connected_at, and whether the workspace still runs', () => {
  const a = agent({ status: 'disconnected', last_connected_at: '2026-01-01T00:00:30Z', disconnected_at: '2026-01-01T00:00:40Z' });
  const [running] = diagnose(input({ workspace: workspace({ agents: [a] }) }));
  assert.equal(running?.code, 'disconnected');
  assert.equal(running?.fix, 'check-machine');
  assert.equal(running?.values.since, Date.parse('2026-01-01T00:00:30Z'));
  assert.equal(running?.values.running, 1);
  const stopped = workspace({ build: 4, transition: 'stop', status: 'stopped', agents: [a] });
  const [d] = diagnose(input({ workspace: stopped, agent: a }));
  assert.equal(d?.fix, 'start-workspace');
  assert.equal(d?.values.workspaceStatus, 'stopped');
  assert.equal(d?.values.running, 0);
  // Shutting down or off is the end of a stop, not a failure.
  const off = agent({ status: 'disconnected', lifecycle_state: 'off' });
  assert.deepEqual(diagnose(input({ workspace: workspace({ agents: [off] }), agent: off })), []);
});

test("the workspace's build failed or was canceled: the job's error, before anything about the agent", () => {
  const ws = workspace({ build: 7, status: 'failed', job: 'failed' });
  ws.latest_build.job.error = 'terraform apply: quota exceeded';
  const [d] = diagnose(input({ workspace: ws }));
  assert.equal(d?.code, 'build-failed');
  assert.equal(d?.fix, 'fix-build');
  assert.equal(d?.values.error, 'terraform apply: quota exceeded');
  assert.equal(d?.values.build, 7);
  assert.deepEqual(d?.log, { kind: 'build', buildId: ws.latest_build.id });
  const canceled = workspace({ status: 'canceled', job: 'canceled' });
  assert.equal(diagnose(input({ workspace: canceled }))[0]?.code, 'build-canceled');
});

test('an agent older than the deployment: agent outdated, with both versions (semver, prefixes and suffixes ignored)', () => {
  const a = agent({ version: 'v2.20.3' });
  const ws = workspace({ agents: [a] });
  const [d] = diagnose(input({ workspace: ws, deploymentVersion: 'v2.24.1-devel+abc123' }));
  assert.equal(d?.code, 'agent-outdated');
  assert.equal(d?.fix, 'update-agent');
  assert.deepEqual(d?.values, { agentVersion: 'v2.20.3', deploymentVersion: 'v2.24.1-devel+abc123' });
  assert.deepEqual(diagnose(input({ workspace: ws, deploymentVersion: 'v2.20.3' })), []);
  assert.deepEqual(diagnose(input({ workspace: ws, deploymentVersion: 'garbage' })), []);
  assert.deepEqual(diagnose(input({ workspace: workspace({ agents: [agent({ version: '' })] }), deploymentVersion: 'v2.24.0' })), []);
  assert.deepEqual(parseVersion('2.24.1'), [2, 24, 1]);
  // It comes after the cause of the agent's trouble, as a note beside it.
  const stuck = { ...stuckAgent(), version: 'v2.1.0' };
  const ds = diagnose(input({ workspace: workspace({ build: 2, agents: [stuck] }), deploymentVersion: 'v2.24.0' }));
  assert.deepEqual(
    ds.map((x) => [x.code, x.secondary === true]),
    [
      ['survived-build', false],
      ['agent-outdated', true],
    ],
  );
  assert.equal(mainCause(ds)?.code, 'survived-build');
});

test('an outdated agent that is usable: only a note, never the cause', () => {
  const ready = agent({ version: 'v2.20.3' });
  const ds = diagnose(input({ workspace: workspace({ agents: [ready] }), deploymentVersion: 'v2.24.1' }));
  assert.deepEqual(
    ds.map((d) => [d.code, d.secondary]),
    [['agent-outdated', true]],
  );
  assert.equal(mainCause(ds), undefined, 'no cause for an agent that works');
  assert.equal(restartHelps(ds), true);
  // An unusable agent with nothing likelier (connecting, within its timeout): then it is the lead.
  const connecting = agent({ version: 'v2.20.3', status: 'connecting', lifecycle_state: 'created', created_at: '2026-01-01T00:00:30Z' });
  const alone = diagnose(input({ workspace: workspace({ agents: [connecting] }), deploymentVersion: 'v2.24.1' }));
  assert.equal(mainCause(alone)?.code, 'agent-outdated');
});

test('a ready agent has nothing to diagnose', () => {
  assert.deepEqual(diagnose(input({ workspace: workspace() })), []);
});

test('the stuck record: sorted, deduplicated, bounded, and tolerant of what was stored', () => {
  let r = noteStuckBuild(undefined, 4, 1);
  assert.equal(noteStuckBuild(r, 4, 2), r, 'unchanged: the same object');
  r = noteStuckBuild(r, 2, 3);
  assert.deepEqual(r, { builds: [2, 4], lastAt: 3 });
  for (let b = 10; b < 30; b++) r = noteStuckBuild(r, b, b);
  assert.equal(r.builds.length, 10);
  assert.equal(r.builds[9], 29);
  assert.deepEqual(parseStuckRecord(JSON.parse(JSON.stringify(r))), r);
  for (const bad of [
    undefined,
    null,
    3,
    'x',
    { builds: 'x', lastAt: 1 },
    { builds: [], lastAt: 1 },
    { builds: [1] },
    { builds: [-1, 1.5], lastAt: 0 },
  ])
    assert.equal(parseStuckRecord(bad), undefined, JSON.stringify(bad));
});

test('observeStuck records the latest start build while one of its agents is stuck, and nothing else', () => {
  const ws = workspace({ build: 3, agents: [agent(), stuckAgent()] });
  assert.equal(observeStuck(undefined, ws, T0 + 10_000, 20_000), undefined, 'not past the threshold yet');
  const r = observeStuck(undefined, ws, T0 + 60_000, 20_000);
  assert.deepEqual(r, { builds: [3], lastAt: T0 + 60_000 });
  assert.equal(observeStuck(r, ws, T0 + 70_000, 20_000), r);
  assert.equal(observeStuck(r, workspace({ build: 4 }), T0, 20_000), r, 'a healthy build adds nothing');
  // The fleet's stuck clock (skew-corrected) is the one that counts, not the row's raw first_connected_at.
  assert.equal(
    observeStuck(undefined, ws, T0 + 60_000, 20_000, () => T0 + 50_000),
    undefined,
  );
  const late = workspace({ build: 3, agents: [{ ...stuckAgent(), first_connected_at: '2026-01-01T00:00:50Z' }] });
  assert.deepEqual(observeStuck(undefined, late, T0 + 60_000, 20_000, () => T0 + 1_000)?.builds, [3]);
});
