import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoderClient } from '../../../src/api/client';
import { ManualClock } from '../../doubles/manualClock';
import { MemoryLogger } from '../../doubles/memoryLogger';
import { FleetRejection } from '../../../src/model/fleet';
import type { FleetEvent } from '../../../src/model/types';
import { DeploymentSync } from '../../../src/sync/deployment';
import { FakeServer, USER_JSON, workspaceJson } from '../api/fakeServer';
import { RecordingFleet } from './recordingFleet';

const TOKEN = 'AbCdEfGhIj-abcdefghijklmnopqrstuv';

/** A model that cannot fold any list it is given. */
class RejectingFleet extends RecordingFleet {
  override apply(e: FleetEvent) {
    const changes = super.apply(e);
    if (e.kind === 'workspaces') throw new FleetRejection(e, `a row the model cannot fold (${TOKEN})`);
    return changes;
  }
}

test('an event the model rejects is logged once per kind and minute, without secrets; the sync goes on', async (t) => {
  const server = await new FakeServer().listen();
  t.after(() => server.close());
  server.json('GET /api/v2/users/me', USER_JSON);
  server.json('GET /api/v2/workspaces', () => ({
    workspaces: [workspaceJson({ id: 'w1', transition: 'stop', status: 'stopped' })],
    count: 1,
  }));
  const clock = new ManualClock();
  const log = new MemoryLogger();
  const fleet = new RejectingFleet();
  const sync = new DeploymentSync({
    client: new CoderClient({ baseUrl: server.url, token: TOKEN }),
    fleet,
    clock,
    log,
    settings: { workspaceFilter: 'owner:me', pollIntervalMs: 15_000, maxLiveWorkspaces: 0 },
  });
  t.after(() => sync.dispose());
  sync.start();
  for (let polls = 1; polls <= 3; polls++) {
    await fleet.until(() => fleet.of('workspaces').length === polls, `poll ${polls}`);
    clock.advance(15_000);
  }
  const rejected = log.lines.filter((l) => l.includes('model rejected'));
  assert.equal(rejected.length, 1, rejected.join('\n'));
  assert.match(rejected[0]!, /^warn model rejected a workspaces event: cannot apply a workspaces event/);
  assert.ok(!log.lines.some((l) => l.includes(TOKEN)), 'no secret in the log');
  assert.deepEqual(fleet.connectionKinds(), ['connecting', 'live'], 'the sync went on');
  clock.advance(60_000);
  await fleet.until(() => fleet.of('workspaces').length >= 4, 'a poll a minute later');
  assert.equal(
    log.lines.filter((l) => l.includes('model rejected')).length,
    2,
    'reported again after the window, with the count held back',
  );
  assert.match(log.lines.filter((l) => l.includes('model rejected'))[1]!, /more since last report/);
});
