import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  logMessages,
  MAX_LOG_LINES_PER_MESSAGE,
  MAX_TEXT,
  parseHostMessage,
  parsePanelState,
  STRING_KEYS,
  MAX_SHORT,
  parseWebviewMessage,
  type AgentDetailsView,
  type LogLine,
} from '../../../src/protocol/detailsPanel';

const view: AgentDetailsView = {
  deploymentUrl: 'https://coder.example.com',
  workspaceId: 'ws-1',
  workspaceName: 'dev',
  ownerName: 'alice',
  agentId: 'a-1',
  agentName: 'main',
  parentName: null,
  bound: true,
  status: 'connected',
  lifecycle: 'ready',
  severity: 'ok',
  label: 'ready',
  detail: null,
  stuck: false,
  connection: { kind: 'live', since: null, error: null },
  build: { number: 3, transition: 'start', jobStatus: 'succeeded' },
  version: 'v2.24.1',
  apiVersion: '2.6',
  os: 'linux',
  arch: 'amd64',
  directory: null,
  health: { healthy: true, reason: null },
  troubleshootingUrl: null,
  times: { createdAt: 1, firstConnectedAt: 2, lastConnectedAt: 3, disconnectedAt: null, startedAt: 4, readyAt: 5 },
  timeline: [{ state: 'created', at: 1, source: 'server' }],
  idHistory: [{ oldId: 'a-0', newId: 'a-1', buildNumber: 3, at: 9, cause: null }],
  scripts: [{ name: 's', runOnStart: true, runOnStop: false, startBlocksLogin: true, timeoutSeconds: 0 }],
  diagnoses: [{ code: 'survived-build', cause: 'c', fix: 'f', logLines: ['l'], link: null }],
  actions: { replay: true, reinitialize: true, restart: true, reconnect: true, copyDiagnostics: true },
  asOf: 10,
};

const line = (id: number, output = `line ${id}`): LogLine => ({ id, at: 1, level: 'info', output, source: null });

describe('webview -> host messages', () => {
  it('accepts ready, the four actions and a rejection report', () => {
    assert.ok(parseWebviewMessage({ type: 'rejected', reason: 'agent.severity: invalid_value' }).ok);
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { ok: true, message: { type: 'ready' } });
    for (const action of ['replay', 'reinitialize', 'restart', 'reconnect']) {
      const r = parseWebviewMessage({ type: 'action', action });
      assert.ok(r.ok, action);
    }
  });

  it('drops unknown fields instead of passing them on', () => {
    const r = parseWebviewMessage({ type: 'action', action: 'replay', command: 'workbench.action.terminal.new' });
    assert.deepEqual(r, { ok: true, message: { type: 'action', action: 'replay' } });
  });

  it('rejects unknown types, unknown actions and non-objects', () => {
    for (const bad of [
      null,
      undefined,
      42,
      'ready',
      [],
      {},
      { type: 'exec', command: 'rm -rf /' },
      { type: 'action', action: 'delete' },
      { type: 'action' },
      { type: 'action', action: ['replay'] },
      { type: 'action', action: 'toString' },
    ]) {
      assert.equal(parseWebviewMessage(bad).ok, false, String(JSON.stringify(bad)));
    }
  });

  it('ignores inherited properties (a prototype cannot smuggle an action in)', () => {
    const sneaky = Object.create({ type: 'action', action: 'restart' }) as object;
    assert.equal(parseWebviewMessage(sneaky).ok, false);
  });

  it('gives a reason that names the path, never the value', () => {
    const secretish = 'Coder-Session-Token: abcdef1234-0123456789abcdefghijkl';
    const r = parseWebviewMessage({ type: 'action', action: secretish });
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.match(r.reason, /^action: /);
      assert.ok(!r.reason.includes('abcdef'), r.reason);
    }
  });
});

describe('host -> webview messages', () => {
  it('accepts a full state', () => {
    const r = parseHostMessage({ type: 'state', agent: view });
    assert.ok(r.ok);
  });

  it('accepts hostile text as text (validation is about shape, rendering is textContent)', () => {
    const hostile = '<img src=x onerror="fetch(`//evil`)"><script>alert(1)</script>';
    const r = parseHostMessage({ type: 'state', agent: { ...view, workspaceName: hostile, agentName: hostile } });
    assert.ok(r.ok);
    if (r.ok && r.message.type === 'state') assert.equal(r.message.agent.workspaceName, hostile);
    assert.ok(parseHostMessage({ type: 'logs', reset: false, lines: [line(1, hostile)] }).ok);
  });

  it('rejects states with a wrong shape or out-of-range values', () => {
    const bad: unknown[] = [
      { type: 'state' },
      { type: 'state', agent: { ...view, severity: 'catastrophic' } },
      { type: 'state', agent: { ...view, asOf: Infinity } },
      { type: 'state', agent: { ...view, asOf: Number.NaN } },
      { type: 'state', agent: { ...view, build: { ...view.build, number: -1 } } },
      { type: 'state', agent: { ...view, agentName: 42 } },
      { type: 'state', agent: { ...view, agentName: 'x'.repeat(2000) } },
      { type: 'state', agent: { ...view, timeline: Array.from({ length: 201 }, () => view.timeline[0]) } },
      { type: 'logs', reset: false, lines: [{ ...line(1), id: 1.5 }] },
      { type: 'logs', reset: false, lines: [line(1, 'y'.repeat(MAX_TEXT + 1))] },
      { type: 'logs', lines: [] },
      { type: 'logStatus', status: 'exploded', message: null },
      { type: 'actionDone', action: 'replay' },
    ];
    for (const m of bad) assert.equal(parseHostMessage(m).ok, false, JSON.stringify(m).slice(0, 120));
  });

  it('rejects more log lines than one message may carry', () => {
    const lines = Array.from({ length: MAX_LOG_LINES_PER_MESSAGE + 1 }, (_, i) => line(i));
    assert.equal(parseHostMessage({ type: 'logs', reset: false, lines }).ok, false);
  });
});

describe('logMessages', () => {
  it('splits a backlog into valid messages, reset only on the first', () => {
    const lines = Array.from({ length: 2500 }, (_, i) => line(i));
    const msgs = logMessages(lines, true);
    assert.equal(msgs.length, 3);
    assert.deepEqual(
      msgs.map((m) => (m.type === 'logs' ? [m.reset, m.lines.length] : null)),
      [
        [true, 1000],
        [false, 1000],
        [false, 500],
      ],
    );
    for (const m of msgs) assert.ok(parseHostMessage(m).ok);
  });

  it('still resets when the backlog is empty', () => {
    assert.deepEqual(logMessages([], true), [{ type: 'logs', reset: true, lines: [] }]);
    assert.deepEqual(logMessages([], false), []);
  });
});

describe('init: the page texts and the panel state (kept by VS Code across a reload)', () => {
  const state = { deploymentUrl: 'https://coder.example.com', workspaceId: 'ws-1', agentName: 'main', parentName: null };
  const strings = Object.fromEntries(STRING_KEYS.map((k) => [k, `text of ${k}`]));

  it('carries every text of the page; one missing or oversized voids the message', () => {
    assert.ok(parseHostMessage({ type: 'init', strings, panelState: state }).ok);
    const { loading: _, ...missing } = strings;
    assert.equal(parseHostMessage({ type: 'init', strings: missing, panelState: state }).ok, false);
    assert.equal(
      parseHostMessage({ type: 'init', strings: { ...strings, loading: 'x'.repeat(MAX_SHORT + 1) }, panelState: state }).ok,
      false,
    );
    assert.equal(parseHostMessage({ type: 'init', panelState: state }).ok, false);
  });

  it('every text the host sends is used by the page', () => {
    const page = ['main.ts', 'render.ts', 'logs.ts', 'dom.ts']
      .map((f) => readFileSync(join(__dirname, '../../../src/webview', f), 'utf8'))
      .join('\n');
    for (const k of STRING_KEYS) assert.match(page, new RegExp(`\\.${k}\\b|'${k}'`), k);
  });

  it('round-trips through the init message and back from VS Code', () => {
    assert.deepEqual(parsePanelState(JSON.parse(JSON.stringify(state))), { ok: true, message: state });
    assert.deepEqual(parsePanelState({ ...state, parentName: 'box', agentId: 'a-1' }), {
      ok: true,
      message: { ...state, parentName: 'box' },
    });
  });

  it('rejects what is not a saved agent: nothing, an older panel, a wrong shape', () => {
    for (const bad of [undefined, null, 'main', {}, { ...state, agentName: 7 }, { ...state, workspaceId: undefined }]) {
      assert.equal(parsePanelState(bad).ok, false, JSON.stringify(bad));
    }
  });
});
