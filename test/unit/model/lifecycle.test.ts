import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT_LIFECYCLES, AGENT_STATUSES } from '../../../src/api/schemas';
import { classifyAgent, classifyWorkspace, deriveWorkspaceStatus, formatDuration, isUsable, shortId } from '../../../src/model/lifecycle';
import { agent, workspace } from './fixtures';

const T0 = Date.parse('2026-01-01T00:00:00Z');

test('every lifecycle x status pair has a severity, a label and an icon', () => {
  const severities = new Set(['ok', 'progress', 'warning', 'error', 'off']);
  for (const lifecycle_state of AGENT_LIFECYCLES) {
    for (const status of AGENT_STATUSES) {
      const c = classifyAgent(agent({ lifecycle_state, status }), T0 + 60_000);
      assert.ok(severities.has(c.severity), `${lifecycle_state}/${status}`);
      assert.ok(c.label.length > 0 && c.icon.length > 0, `${lifecycle_state}/${status}`);
      assert.doesNotMatch(c.label, /^unknown/, `${lifecycle_state}/${status} is a known pair`);
    }
  }
});

test('ready and connected is ok; off is off whatever the status', () => {
  assert.deepEqual(classifyAgent(agent(), T0).severity, 'ok');
  assert.equal(classifyAgent(agent(), T0).label, 'ready');
  assert.equal(classifyAgent(agent({ lifecycle_state: 'off', status: 'disconnected' }), T0).severity, 'off');
});

test('starting shows the time since started_at', () => {
  const c = classifyAgent(agent({ lifecycle_state: 'starting', started_at: '2026-01-01T00:00:00Z' }), T0 + 72_000);
  assert.equal(c.severity, 'progress');
  assert.equal(c.label, 'starting 1m 12s');
});

test('connected + created is progress before the threshold and stuck after it', () => {
  const a = agent({ lifecycle_state: 'created', status: 'connected' });
  const early = classifyAgent(a, T0 + 5_000, { stuckSince: T0, stuckThresholdMs: 20_000 });
  assert.equal(early.severity, 'progress');
  assert.equal(early.stuck, undefined);
  const late = classifyAgent(a, T0 + 45_000, { stuckSince: T0, stuckThresholdMs: 20_000 });
  assert.equal(late.severity, 'warning');
  assert.equal(late.stuck, true);
  assert.equal(late.label, 'created, connected: lifecycle not reported for 45s');
});

test('without a model observation the stuck clock starts at first_connected_at', () => {
  const a = agent({ lifecycle_state: 'created', status: 'connected', first_connected_at: '2026-01-01T00:00:00Z' });
  assert.equal(classifyAgent(a, T0 + 30_000).stuck, true);
  assert.equal(classifyAgent(a, T0 + 10_000).stuck, undefined);
});

test('start_error carries the health reason; timeout and disconnected are errors', () => {
  const e = classifyAgent(agent({ lifecycle_state: 'start_error', health: { healthy: false, reason: 'script exited 1' } }), T0);
  assert.equal(e.severity, 'error');
  assert.equal(e.label, 'start error: script exited 1');
  assert.equal(classifyAgent(agent({ lifecycle_state: 'start_timeout' }), T0).severity, 'warning');
  assert.equal(classifyAgent(agent({ status: 'timeout', lifecycle_state: 'created' }), T0).severity, 'error');
  assert.equal(classifyAgent(agent({ status: 'disconnected' }), T0).label, 'disconnected');
  assert.equal(classifyAgent(agent({ status: 'connecting', lifecycle_state: 'created' }), T0).label, 'connecting');
});

test('unknown enum values are kept and shown', () => {
  const l = classifyAgent(agent({ lifecycle_state: 'hibernating' }), T0);
  assert.equal(l.label, 'unknown: hibernating');
  assert.equal(l.severity, 'warning');
  assert.equal(classifyAgent(agent({ status: 'teleporting' }), T0).label, 'unknown: teleporting');
  assert.equal(classifyWorkspace(workspace({ status: 'frozen' })).label, 'unknown: frozen');
});

test('usable: ready; or connected and nothing blocks login', () => {
  const blocking = [
    { display_name: 's', start_blocks_login: true, run_on_start: true, run_on_stop: false, timeout: 0, log_source_id: null },
  ];
  assert.equal(isUsable(agent()), true);
  assert.equal(isUsable(agent({ lifecycle_state: 'starting' })), true);
  assert.equal(isUsable(agent({ lifecycle_state: 'starting', scripts: blocking })), false);
  assert.equal(isUsable(agent({ lifecycle_state: 'created', scripts: blocking })), false);
  assert.equal(isUsable(agent({ lifecycle_state: 'created' })), true);
  assert.equal(isUsable(agent({ status: 'connecting', lifecycle_state: 'created' })), false);
  assert.equal(isUsable(agent({ lifecycle_state: 'start_error', scripts: blocking })), true);
  assert.equal(isUsable(agent({ lifecycle_state: 'off' })), false);
});

test('workspace classification: running, building with job status, failed with error, stopped', () => {
  assert.equal(classifyWorkspace(workspace()).label, 'running');
  const building = classifyWorkspace(workspace({ transition: 'stop', job: 'running', status: 'stopping' }));
  assert.equal(building.label, 'stop: running');
  assert.equal(building.severity, 'progress');
  assert.equal(classifyWorkspace(workspace({ job: 'failed', status: 'failed' })).severity, 'error');
  assert.equal(classifyWorkspace(workspace({ transition: 'stop', status: 'stopped' })).severity, 'off');
});

test('derived workspace status follows coder-api.md section 4', () => {
  assert.equal(deriveWorkspaceStatus('start', 'pending'), 'pending');
  assert.equal(deriveWorkspaceStatus('start', 'running'), 'starting');
  assert.equal(deriveWorkspaceStatus('stop', 'running'), 'stopping');
  assert.equal(deriveWorkspaceStatus('delete', 'running'), 'deleting');
  assert.equal(deriveWorkspaceStatus('start', 'succeeded'), 'running');
  assert.equal(deriveWorkspaceStatus('stop', 'succeeded'), 'stopped');
  assert.equal(deriveWorkspaceStatus('delete', 'succeeded'), 'deleted');
  assert.equal(deriveWorkspaceStatus('start', 'failed'), 'failed');
});

test('durations and short ids', () => {
  assert.equal(formatDuration(45_000), '45s');
  assert.equal(formatDuration(72_000), '1m 12s');
  assert.equal(formatDuration(2 * 3600_000 + 3 * 60_000), '2h 3m');
  assert.equal(formatDuration(-5), '0s');
  assert.equal(shortId('0123456789abcdef'), '01234567');
});
