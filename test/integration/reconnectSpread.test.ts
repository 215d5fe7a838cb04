/**
 * The reconnect spread over real sockets: one stream dropped while the other stays open comes
 * back at once; a restart of the deployment (every stream drops together) makes the client wait
 * its drawn delay, then its streams and its reads go together. The delay is fixed by the random
 * source: a lower bound on the first request after the restart is exact (no timer fires early).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../sim';
import { startBoundCore } from './core';

const WINDOW_MS = 4000;
const DELAY_MS = WINDOW_MS / 2; // random() = 0.5

async function setup(t: { after(fn: () => void | Promise<void>): void }) {
  const sim = await startSimulator({ clock: 'real' });
  t.after(() => sim.close());
  const id = sim.createWorkspace({ name: 'dev' });
  const core = startBoundCore(t, sim, id, { pollIntervalMs: 600_000 }, { spreadWindowMs: WINDOW_MS, random: () => 0.5 });
  const upgrades = (kind: string) => sim.stats().requestsByRoute[`WS ${kind}`] ?? 0;
  await core.until(() => sim.stats().openStreams === 2 && upgrades('connection-watch') === 1 && upgrades('watch-ws') === 1, 'both streams');
  // Reads the opening set off must be answered before the restart: one still in flight then is
  // retried on a new connection by the HTTP client, which is no reconnect of the sync.
  sim.logRequests(true);
  await core.until(() => sim.stats().requestsByRoute['GET /workspaces/{}'] !== undefined, 'the read after connection-watch opened');
  for (let quiet = 0; quiet < 3;) {
    await new Promise((r) => setTimeout(r, 100));
    quiet = sim.takeRequestLog().length === 0 ? quiet + 1 : 0;
  }
  return { sim, id, core };
}

test('a single dropped stream reconnects at once, with no spread', async (t) => {
  const { sim, id, core } = await setup(t);
  const droppedAt = Date.now();
  sim.fault('drop-stream', { workspace: id, stream: 'watch-ws' });
  const log: { at: number; route: string }[] = [];
  await core.until(
    () => {
      log.push(...sim.takeRequestLog());
      return log.some((r) => r.route === 'WS watch-ws');
    },
    'the watch-ws reconnect',
    DELAY_MS,
  );
  const back = log.find((r) => r.route === 'WS watch-ws')!.at - droppedAt;
  console.log(`# single dropped stream: back after ${back} ms`);
  assert.ok(back < DELAY_MS, `${back} ms`);
  assert.ok(!log.some((r) => r.route === 'WS connection-watch'), 'the other stream stayed open');
  assert.equal(core.log.lines.filter((l) => l.includes('deployment lost')).length, 0, core.log.lines.join('\n'));
});

test('a deployment restart: the first reconnect waits the drawn delay, then the streams go together', async (t) => {
  const { sim, core } = await setup(t);
  const restartedAt = Date.now();
  await sim.restart();
  const log: { at: number; route: string }[] = [];
  await core.until(
    () => {
      log.push(...sim.takeRequestLog());
      return sim.stats().openStreams === 2;
    },
    'both streams back',
    DELAY_MS + 10_000,
  );
  assert.deepEqual(
    core.log.lines.filter((l) => l.includes('deployment lost')).map((l) => l.replace(/\d+ ms/, 'N ms')),
    ['info deployment lost (every stream dropped together): reconnecting in N ms, spread over the editors of this deployment'],
  );
  const first = Math.min(...log.map((r) => r.at)) - restartedAt;
  const ws = log.filter((r) => r.route.startsWith('WS ')).map((r) => r.at - restartedAt);
  console.log(`# restart: first request after ${first} ms, upgrades at ${ws.join(', ')} ms (delay ${DELAY_MS} ms)`);
  assert.ok(first >= DELAY_MS, `nothing reached the deployment before the drawn delay: ${first} ms`);
  assert.equal(ws.length, 2, 'each stream reconnected once');
  assert.ok(Math.max(...ws) - Math.min(...ws) < 1000, `the streams went together: ${ws.join(', ')}`);
});
