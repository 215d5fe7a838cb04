import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContainersResponseSchema, type ContainersResponse } from '../../../src/api/devcontainerSchemas';
import { DevcontainerStore, canRecreate, classifyDevcontainer, devcontainerView } from '../../../src/model/devcontainers';
import { toAgentDetailsView } from '../../../src/model/detailsView';
import { AgentDetailsViewSchema } from '../../../src/protocol/detailsPanel';
import { agent, workspace } from './fixtures';

const answer = (devcontainers: Record<string, unknown>[]): ContainersResponse =>
  ContainersResponseSchema.parse({ containers: [], devcontainers, warnings: [] });
const dc = (over: Record<string, unknown> = {}) => ({
  id: 'dc-1',
  name: 'app',
  workspace_folder: '/src/app',
  config_path: '/src/app/.devcontainer/devcontainer.json',
  status: 'running',
  dirty: false,
  agent: { id: 'sub-1', name: 'app', directory: '/src/app' },
  subagent_id: 'sub-1',
  ...over,
});

test('an answer is stored per parent agent; the same answer again changes nothing', () => {
  const s = new DevcontainerStore();
  const e = { kind: 'answer' as const, workspaceId: 'w', parentAgentId: 'p', answer: answer([dc()]), at: 1 };
  assert.deepEqual(s.apply(e), [{ kind: 'devcontainers-changed', workspaceId: 'w', parentAgentId: 'p' }]);
  assert.equal(s.supported, 'supported');
  assert.deepEqual(s.apply({ ...e, at: 2 }), []);
  assert.equal(s.of('p')[0]!.name, 'app');
  assert.equal(s.find('p', 'dc-1')!.status, 'running');
  assert.deepEqual(s.of('other'), []);
  assert.equal(s.apply({ ...e, answer: answer([dc({ status: 'starting' })]) }).length, 1);
});

test('not connected is a state, not a list; forget drops the parent', () => {
  const s = new DevcontainerStore();
  s.apply({ kind: 'answer', workspaceId: 'w', parentAgentId: 'p', answer: answer([dc()]), at: 1 });
  assert.equal(s.apply({ kind: 'state', workspaceId: 'w', parentAgentId: 'p', state: 'not-connected', message: 'x', at: 2 }).length, 1);
  assert.equal(s.state('p')!.kind, 'not-connected');
  assert.deepEqual(s.of('p'), []);
  assert.equal(s.apply({ kind: 'forget', parentAgentId: 'p' }).length, 1);
  assert.equal(s.state('p'), undefined);
  assert.deepEqual(s.apply({ kind: 'forget', parentAgentId: 'p' }), []);
});

test('unsupported turns the feature off for the deployment: entries go, later answers are ignored', () => {
  const s = new DevcontainerStore();
  s.apply({ kind: 'state', workspaceId: 'w', parentAgentId: 'p', state: 'error', message: 'x', at: 1 });
  assert.equal(s.apply({ kind: 'unsupported' }).length, 1);
  assert.equal(s.supported, 'unsupported');
  assert.deepEqual(s.apply({ kind: 'unsupported' }), []);
  assert.deepEqual(s.apply({ kind: 'state', workspaceId: 'w', parentAgentId: 'p', state: 'error', message: 'y', at: 2 }), []);
  assert.equal(s.state('p'), undefined);
});

test('the sub-agent link: by agent.id or subagent_id, then by name under the parent when the ID changed or is missing', () => {
  const s = new DevcontainerStore();
  s.apply({ kind: 'answer', workspaceId: 'w', parentAgentId: 'p', answer: answer([dc()]), at: 1 });
  const [d] = s.of('p');
  const old = agent({ id: 'sub-1', name: 'app', parent_id: 'p' });
  const other = agent({ name: 'other', parent_id: 'p' });
  assert.equal(s.subAgentOf(d!, [other, old]), old);
  assert.equal(s.devcontainerOf('p', old)!.id, 'dc-1');
  assert.equal(s.devcontainerOf('p', other), undefined);
  // The recreate deleted the sub-agent: the answer names no agent; a new row comes back under a new ID.
  s.apply({
    kind: 'answer',
    workspaceId: 'w',
    parentAgentId: 'p',
    answer: answer([dc({ status: 'starting', agent: undefined, subagent_id: undefined })]),
    at: 2,
  });
  const [during] = s.of('p');
  const fresh = agent({ name: 'app', parent_id: 'p' });
  assert.equal(s.subAgentName(during!), 'app', 'the name is remembered');
  assert.equal(s.subAgentOf(during!, [other, fresh]), fresh);
  assert.equal(s.devcontainerOf('p', fresh)!.id, 'dc-1');
  // The list still names the old ID: the name finds the new row.
  s.apply({ kind: 'answer', workspaceId: 'w', parentAgentId: 'p', answer: answer([dc()]), at: 3 });
  assert.equal(s.subAgentOf(s.of('p')[0]!, [fresh]), fresh);
});

test('classification: status, configuration changed, error text, unknown statuses; recreate refused while transitioning', () => {
  const parse = (o: Record<string, unknown>) => answer([dc(o)]).devcontainers[0]!;
  assert.deepEqual(
    { ...classifyDevcontainer(parse({})), detail: undefined },
    { severity: 'ok', icon: 'vm-running', label: 'running', detail: undefined, dirty: false },
  );
  const dirty = classifyDevcontainer(parse({ dirty: true }));
  assert.equal(dirty.label, 'running, configuration changed');
  assert.equal(dirty.severity, 'warning');
  assert.match(dirty.detail!, /configuration changed/);
  const failed = classifyDevcontainer(parse({ status: 'error', error: 'exit status 1' }));
  assert.equal(failed.severity, 'error');
  assert.match(failed.detail!, /exit status 1/);
  assert.equal(classifyDevcontainer(parse({ status: 'starting' })).severity, 'progress');
  assert.equal(classifyDevcontainer(parse({ status: 'stopped' })).severity, 'off');
  assert.equal(classifyDevcontainer(parse({ status: 'hibernating' })).label, 'unknown: hibernating');
  for (const st of ['starting', 'stopping', 'deleting']) assert.equal(canRecreate(parse({ status: st })), false, st);
  for (const st of ['running', 'stopped', 'error']) assert.equal(canRecreate(parse({ status: st })), true, st);
});

test('the details panel of a dev-container sub-agent carries its container, in a view the protocol accepts', () => {
  const parent = agent({ name: 'main' });
  const sub = agent({ name: 'app', parent_id: parent.id });
  const ws = workspace({ agents: [parent, sub] });
  const d = answer([
    dc({
      dirty: true,
      error: 'postCreateCommand failed',
      container: { id: 'abcdef0123456789', friendly_name: '', image: 'x', running: true, status: 'running' },
    }),
  ]).devcontainers[0]!;
  const view = toAgentDetailsView({
    deploymentUrl: 'https://coder.example.com',
    workspace: ws,
    agent: sub,
    classification: { severity: 'ok', label: 'ready', icon: 'pass-filled' },
    connection: { kind: 'live' },
    bound: false,
    now: 1,
    devcontainer: d,
  });
  assert.deepEqual(view.devcontainer, {
    name: 'app',
    status: 'running',
    severity: 'warning',
    label: 'running, configuration changed',
    dirty: true,
    workspaceFolder: '/src/app',
    configPath: '/src/app/.devcontainer/devcontainer.json',
    container: 'abcdef012345',
    error: 'postCreateCommand failed',
  });
  assert.ok(AgentDetailsViewSchema.safeParse(view).success);
  const plain = toAgentDetailsView({
    deploymentUrl: 'https://coder.example.com',
    workspace: ws,
    agent: parent,
    classification: { severity: 'ok', label: 'ready', icon: 'pass-filled' },
    connection: { kind: 'live' },
    bound: false,
    now: 1,
  });
  assert.equal(plain.devcontainer, null);
  assert.deepEqual(devcontainerView(d).name, 'app');
});
