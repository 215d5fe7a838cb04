import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnosticsReport, type DiagnosticsInput } from '../../../src/model/diagnosticsReport';

const TOKEN = 'AbCdEfGhIj-abcdefghijklmnopqrstuv';
const HEADER_VALUE = 'Bearer hdr-s3cret-value-123';

function input(over: Partial<DiagnosticsInput> = {}): DiagnosticsInput {
  return {
    generatedAt: Date.parse('2026-12-01T10:00:00Z'),
    extension: { id: 'coderstatus.coder-workspace-status', version: '0.1.0' },
    editor: { appName: 'code-server', version: '1.99.3', remoteName: 'ssh-remote' },
    deployment: {
      url: 'https://coder.example.com',
      serverVersion: 'v2.24.1',
      connection: 'live',
      streams: 'connection-watch=unsupported watch-ws=supported sse=unknown',
      repairRoutes: 'replay=unsupported reinitialize=unknown (v2.24.1)',
    },
    workspace: {
      id: 'ws-1',
      name: 'dev',
      owner: 'alice',
      template: 'vm',
      status: 'running',
      rung: 'watch-ws',
      build: { id: 'b-5', number: 5, transition: 'start', jobStatus: 'succeeded', error: null, createdAt: '2026-12-01T09:58:00Z' },
      stuckBuilds: [3, 5],
    },
    focusAgentId: 'agent-new',
    agents: [
      { id: 'agent-other', name: 'gpu', parentId: null, status: 'connected', lifecycle: 'ready', version: 'v2.24.1', times: {} },
      {
        id: 'agent-new',
        name: 'main',
        parentId: null,
        status: 'connected',
        lifecycle: 'created',
        version: 'v2.24.1',
        times: { created_at: '2026-12-01T09:59:00Z', first_connected_at: '2026-12-01T09:59:02Z', ready_at: null },
      },
    ],
    idHistory: [{ oldId: 'agent-old', newId: 'agent-new', buildNumber: 5, at: Date.parse('2026-12-01T09:59:01Z'), cause: 'build #5' }],
    decisions: [
      {
        at: Date.parse('2026-12-01T09:59:30Z'),
        kind: 'stuck',
        reason: 'agent main is connected but its lifecycle is still "created" after 20s',
      },
      // A secret that found its way into an error text is cut out all the same.
      { at: Date.parse('2026-12-01T09:59:31Z'), kind: 'give-up', reason: `failed: header ${HEADER_VALUE} / token ${TOKEN}\nsecond line` },
    ],
    diagnoses: [{ code: 'survives-restarts', cause: 'Stuck again.', fix: 'The template must restart the agent on resume.' }],
    secrets: [TOKEN, HEADER_VALUE],
    ...over,
  };
}

test('the report has the versions, the workspace and build, agent IDs and states with times, the history, decisions and rungs', () => {
  const text = diagnosticsReport(input());
  for (const part of [
    'coderstatus.coder-workspace-status 0.1.0',
    'code-server 1.99.3 (remote: ssh-remote)',
    'https://coder.example.com v2.24.1',
    'connection-watch=unsupported watch-ws=supported',
    'replay=unsupported',
    'alice/dev (ws-1)',
    '#5 b-5 start, job succeeded',
    'earlier stuck builds: #3, #5',
    'fed by: watch-ws',
    'main (this one): agent-new, connected, created, v2.24.1',
    'first_connected_at: 2026-12-01T09:59:02Z',
    'build #5: agent-old -> agent-new (build #5)',
    'stuck: agent main is connected',
    'survives-restarts: Stuck again. Fix: The template must restart the agent on resume.',
  ])
    assert.ok(text.includes(part), `missing ${part}\n${text}`);
  assert.ok(text.indexOf('agent-new,') < text.indexOf('agent-other'), 'the agent it is about comes first');
  assert.ok(!text.includes('ready_at'), 'unknown times are left out');
  assert.ok(text.includes('token <redacted> second line'), 'one line per decision');
});

test('no session token and no header command value, even when one hides in a reason', () => {
  const text = diagnosticsReport(input());
  assert.ok(!text.includes(TOKEN));
  assert.ok(!text.includes(HEADER_VALUE));
  assert.ok(!text.includes('hdr-s3cret'));
  assert.ok(text.includes('<redacted>'));
});

test('without a workspace or decisions it still says so', () => {
  const text = diagnosticsReport(input({ workspace: undefined, agents: [], decisions: [], idHistory: [], diagnoses: [] }));
  assert.match(text, /Agents\n {2}none/);
  assert.match(text, /Agent ID history\n {2}none seen/);
  assert.match(text, /Diagnosis\n {2}nothing found/);
});
