import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../doubles/manualClock';
import {
  BindingTracker,
  bindingFromAuthority,
  bindingFromEnv,
  parseBindingSetting,
  parseRemoteAuthority,
  resolveAgent,
} from '../../../src/model/binding';
import { agent, workspace } from './fixtures';

test('remote authorities written by the Coder extension, old and new, nested, and config-ssh', () => {
  assert.deepEqual(parseRemoteAuthority('ssh-remote+coder-vscode.coder.example.com--alice--dev.main'), {
    kind: 'coder',
    host: 'coder.example.com',
    owner: 'alice',
    workspace: 'dev',
    agent: 'main',
  });
  assert.deepEqual(parseRemoteAuthority('ssh-remote+coder-cursor.coder.example.com--alice--dev'), {
    kind: 'coder',
    host: 'coder.example.com',
    owner: 'alice',
    workspace: 'dev',
    agent: null,
  });
  assert.deepEqual(
    parseRemoteAuthority('ssh-remote+coder-vscode-insiders.xn--18j4d.example--bob--api.gpu'),
    { kind: 'coder', host: 'xn--18j4d.example', owner: 'bob', workspace: 'api', agent: 'gpu' },
    'a punycode host holds "--"',
  );
  assert.deepEqual(parseRemoteAuthority('ssh-remote+coder-vscode--alice--dev--main'), {
    kind: 'coder',
    host: null,
    owner: 'alice',
    workspace: 'dev',
    agent: 'main',
  });
  assert.deepEqual(parseRemoteAuthority('ssh-remote+coder-vscode--alice--dev'), {
    kind: 'coder',
    host: null,
    owner: 'alice',
    workspace: 'dev',
    agent: null,
  });
  assert.deepEqual(parseRemoteAuthority('dev-container+7b22@ssh-remote+coder-vscode.host.io--alice--dev.main'), {
    kind: 'coder',
    host: 'host.io',
    owner: 'alice',
    workspace: 'dev',
    agent: 'main',
  });
  assert.deepEqual(parseRemoteAuthority('attached-container+x://ssh-remote+coder-vscode.host.io--alice--dev'), {
    kind: 'coder',
    host: 'host.io',
    owner: 'alice',
    workspace: 'dev',
    agent: null,
  });
  assert.deepEqual(parseRemoteAuthority('ssh-remote+coder.dev.main'), {
    kind: 'coder',
    host: null,
    owner: null,
    workspace: 'dev',
    agent: 'main',
  });
});

test('other hosts are not Coder windows; Coder names with missing or ambiguous parts are malformed', () => {
  for (const a of [
    'ssh-remote+myserver',
    'ssh-remote+coder-vscode',
    'ssh-remote+coder-vscode-foo--a--b',
    'wsl+Ubuntu',
    'codespaces+abc',
    '',
  ]) {
    assert.deepEqual(parseRemoteAuthority(a), { kind: 'not-coder' }, a);
  }
  assert.equal(parseRemoteAuthority('ssh-remote+coder-vscode.host--owner').kind, 'malformed');
  assert.equal(parseRemoteAuthority('ssh-remote+coder-vscode.host--alice--dev.main.extra').kind, 'malformed');
  assert.equal(parseRemoteAuthority('ssh-remote+coder-vscode--alice').kind, 'malformed');
  assert.equal(bindingFromAuthority('ssh-remote+coder-vscode.h--alice--dev')?.source, 'remote-authority');
  assert.equal(bindingFromAuthority('ssh-remote+elsewhere'), undefined);
});

test('setting and environment bindings', () => {
  assert.deepEqual(parseBindingSetting('alice/dev.main'), { owner: 'alice', workspace: 'dev', agent: 'main', source: 'setting' });
  assert.deepEqual(parseBindingSetting(' me/dev '), { owner: null, workspace: 'dev', agent: null, source: 'setting' });
  assert.equal(parseBindingSetting(''), undefined);
  assert.ok('error' in (parseBindingSetting('dev') as object));
  assert.deepEqual(bindingFromEnv({ CODER_WORKSPACE_NAME: 'dev', CODER_WORKSPACE_AGENT_NAME: 'main' }), {
    owner: null,
    workspace: 'dev',
    agent: 'main',
    source: 'environment',
  });
  assert.deepEqual(bindingFromEnv({ CODER_WORKSPACE_NAME: 'dev' })?.agent, null);
  assert.equal(bindingFromEnv({}), undefined);
});

test('resolving an agent: by name and parent, the only top-level one, ambiguous, none', () => {
  const main = agent({ name: 'main' });
  const dc = agent({ name: 'dc', parent_id: main.id });
  const ws = workspace({ agents: [main, dc] });
  assert.equal(resolveAgent(ws, { agent: null }).kind, 'found');
  assert.equal((resolveAgent(ws, { agent: 'dc', parentName: 'main' }) as { agent: { id: string } }).agent.id, dc.id);
  assert.equal(resolveAgent(ws, { agent: 'dc', parentName: null }).kind, 'not-found');
  assert.equal(resolveAgent(ws, { agent: 'nope' }).kind, 'not-found');
  assert.equal(resolveAgent(workspace({ agents: [agent({ name: 'a' }), agent({ name: 'b' })] }), { agent: null }).kind, 'ambiguous');
  assert.equal(resolveAgent(workspace({ agents: [] }), { agent: 'main' }).kind, 'no-agents');
});

test('the tracker follows the agent by name across builds and keeps the last 20 changes', () => {
  const clock = new ManualClock();
  const first = agent({ name: 'main' });
  const ws = workspace({ build: 1, agents: [first] });
  const t = new BindingTracker(clock, {
    workspaceId: ws.id,
    workspaceName: 'dev',
    owner: 'alice',
    agentName: 'main',
    parentName: null,
    agentId: first.id,
  });
  assert.deepEqual(t.onWorkspace(ws, 'test'), { kind: 'unchanged' });
  assert.equal(
    t.onWorkspace(workspace({ id: ws.id, build: 2, transition: 'stop', status: 'stopped', agents: [] }), 'build').kind,
    'waiting',
  );
  assert.equal(t.onWorkspace(workspace({ id: ws.id, build: 3, job: 'running', status: 'starting', agents: [] }), 'build').kind, 'waiting');
  assert.equal(t.onWorkspace(workspace({ id: ws.id, build: 3, agents: [] }), 'build').kind, 'no-agents');
  assert.equal(t.onWorkspace(workspace({ id: ws.id, build: 3, agents: [agent({ name: 'other' })] }), 'build').kind, 'not-found');
  let id = first.id;
  for (let build = 4; build < 30; build++) {
    const next = agent({ name: 'main' });
    const u = t.onWorkspace(workspace({ id: ws.id, build, agents: [next] }), 'build change');
    assert.equal(u.kind, 'id-changed');
    assert.deepEqual(u.kind === 'id-changed' && [u.oldId, u.newId, u.buildNumber], [id, next.id, build]);
    id = next.id;
  }
  assert.equal(t.bound?.agentId, id);
  assert.equal(t.history.length, 20);
  assert.equal(t.history[0]?.newId, id, 'newest first');
  assert.equal(t.onWorkspace(workspace({ build: 99 }), 'x').kind, 'not-bound', 'another workspace');
  const back = BindingTracker.fromJSON(JSON.parse(JSON.stringify(t)), clock);
  assert.deepEqual(back.toJSON(), t.toJSON());
});

test('a saved tracker that is garbage gives an empty one', () => {
  const clock = new ManualClock();
  for (const bad of [null, 42, 'x', { bound: { workspaceId: 1 } }, { history: [{ oldId: 'a' }] }, { bound: null, history: 'nope' }]) {
    const t = BindingTracker.fromJSON(bad, clock);
    assert.equal(t.bound, undefined);
    assert.equal(t.history.length, 0);
  }
});
