import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../doubles/manualClock';
import { MemoryLogger } from '../../doubles/memoryLogger';
import { createDeploymentCore } from '../../../src/sync/deploymentCore';
import { FakeServer, USER_JSON, workspaceJson } from '../api/fakeServer';
import { eventually } from './recordingFleet';

const TOKEN = 'AbCdEfGhIj-abcdefghijklmnopqrstuv';

test('the core of one deployment: the sync feeds the fleet through the given transport; dispose stops it', async (t) => {
  const server = await new FakeServer().listen();
  t.after(() => server.close());
  const row = workspaceJson({ id: 'ws-1', agents: [{ id: 'a1', name: 'main' }] });
  server.json('GET /api/v2/users/me', USER_JSON);
  server.json('GET /api/v2/workspaces', () => ({ workspaces: [row], count: 1 }));
  server.json('GET /api/v2/workspaces/ws-1', () => row);
  let calls = 0;
  const core = createDeploymentCore({
    url: server.url,
    token: TOKEN,
    clock: new ManualClock(),
    log: new MemoryLogger(),
    settings: { workspaceFilter: 'owner:me', pollIntervalMs: 15_000, maxLiveWorkspaces: 0 },
    transport: {
      fetch: (input, init) => {
        calls++;
        return fetch(input, init);
      },
    },
  });
  assert.equal(core.url, server.url);
  core.sync.start();
  await eventually(() => core.fleet.findAgent('ws-1', 'main', null)?.id === 'a1', 'the agent in the fleet');
  assert.ok(calls > 0, 'requests went through the given fetch');
  assert.equal(core.fleet.connection.kind, 'live');
  core.dispose();
  const after = calls;
  await core.sync.refresh();
  assert.equal(calls, after, 'a disposed core sends nothing');
});
