import { test } from 'node:test';
import assert from 'node:assert/strict';
import { devcontainerTargets } from '../../../src/sync/devcontainerSync';
import { agent, workspace } from '../model/fixtures';

test('dev containers are asked of the top-level agents of a succeeded start build, with their connection', () => {
  const main = agent({ name: 'main' });
  const box = agent({ name: 'box', status: 'disconnected' });
  const sub = agent({ name: 'app', parent_id: main.id });
  const ws = workspace({ agents: [main, box, sub] });
  assert.deepEqual(devcontainerTargets(ws), [
    { workspaceId: ws.id, parentAgentId: main.id, connected: true },
    { workspaceId: ws.id, parentAgentId: box.id, connected: false },
  ]);
  assert.deepEqual(devcontainerTargets(workspace({ agents: [main], job: 'running' })), [], 'a build in progress');
  assert.deepEqual(devcontainerTargets(workspace({ agents: [main], transition: 'stop', status: 'stopped' })), [], 'stopped');
});
