import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkspaceSchema } from '../../../src/api/schemas';
import { chooseLiveSet } from '../../../src/sync/liveSet';
import { DeploymentSupport, nextRung, pickRung } from '../../../src/sync/ladder';
import { RateLimitedLog, reasonKind } from '../../../src/sync/rateLimitedLog';
import { ManualClock } from '../../doubles/manualClock';
import { MemoryLogger } from '../../doubles/memoryLogger';
import { workspaceJson, type WorkspaceSpec } from '../api/fakeServer';

const ws = (s: WorkspaceSpec) => WorkspaceSchema.parse(workspaceJson(s));
const fleet = [
  ws({ id: 'r1' }),
  ws({ id: 'stopped', transition: 'stop', status: 'stopped' }),
  ws({ id: 'bob', owner: 'bob' }),
  ws({ id: 'r2' }),
  ws({ id: 'starting', status: 'starting', jobStatus: 'running' }),
  ws({ id: 'r3' }),
];

test('live set: bound first, then visible, then own running workspaces, capped', () => {
  const pick = (bound: string | undefined, visible: string[], max: number) =>
    chooseLiveSet({ bound, visible, workspaces: fleet, username: 'alice', max });
  assert.deepEqual(pick(undefined, [], 20), ['r1', 'r2', 'starting', 'r3']);
  assert.deepEqual(pick('stopped', ['bob'], 3), ['stopped', 'bob', 'r1']);
  assert.deepEqual(pick(undefined, ['ghost', 'stopped'], 2), ['stopped', 'r1'], 'unknown visible ids are ignored');
});

test('live set: the bound workspace is never dropped, even beyond the cap or before it is listed', () => {
  assert.deepEqual(chooseLiveSet({ bound: 'not-listed', visible: ['r1'], workspaces: fleet, username: 'alice', max: 1 }), ['not-listed']);
  assert.deepEqual(chooseLiveSet({ bound: undefined, visible: [], workspaces: fleet, username: undefined, max: 0 }), ['r1']);
});

test('ladder: a 404 marks a rung unsupported for the deployment, unless it worked before', () => {
  const s = new DeploymentSupport();
  assert.equal(pickRung(s, new Set()), 'connection-watch');
  assert.equal(s.markUnsupported('connection-watch'), true);
  assert.equal(pickRung(s, new Set()), 'watch-ws');
  s.markSupported('watch-ws');
  assert.equal(s.markUnsupported('watch-ws'), false, 'a workspace-level 404 does not condemn the rung');
  assert.equal(pickRung(s, new Set(['watch-ws'])), 'sse');
  assert.equal(pickRung(s, new Set(), 'sse'), 'sse');
  s.markUnsupported('sse');
  assert.equal(pickRung(s, new Set(['watch-ws'])), 'poll');
  assert.equal(nextRung('sse'), 'poll');
  assert.equal(nextRung('poll'), 'poll');
  assert.match(s.describe(), /connection-watch=unsupported watch-ws=supported sse=unsupported/);
});

test('rate-limited log: each kind once per window, with the count held back', () => {
  const clock = new ManualClock();
  const log = new MemoryLogger();
  const r = new RateLimitedLog(log, clock, 60_000);
  for (let i = 0; i < 100; i++) r.warn(reasonKind('watch workspace: id: bad'), `bad ${i}`);
  r.warn('other', 'other kind');
  clock.advance(60_000);
  r.warn('watch workspace', 'bad again');
  assert.deepEqual(log.lines, ['warn bad 0', 'warn other kind', 'warn bad again (99 more since last report)']);
});
