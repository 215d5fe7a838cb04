/**
 * Resource hygiene of the headless core, and the reconnect loop cap against a simulator whose
 * agent ID flips by itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { systemClock } from '../../../src/common/clock';
import { BindingTracker } from '../../../src/model/binding';
import { ReconnectRunner } from '../../../src/sync/reconnectRunner';
import { BindingFollower } from '../../../src/sync/bindingFollower';
import { startSimulator } from '../../sim';
import { startBoundCore, startCore } from '../core';

/** Active handles by kind, without the ones node:test itself holds. */
function handles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

const KINDS = ['Timeout', 'TCPSocketWrap', 'TCPWRAP'] as const;
const within = (now: Record<string, number>, base: Record<string, number>) => KINDS.every((k) => (now[k] ?? 0) <= (base[k] ?? 0));

/** Polls until `pred` holds (closing sockets and timers have no event of their own to wait on). */
async function eventually(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// A full, synchronous garbage collection without starting node with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** Heap in use after two full collections (the second one frees what finalizers released). */
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
const mb = (n: number) => (n / 2 ** 20).toFixed(2);

test('subscribe/unsubscribe and start/dispose cycles leave no handle, timer or socket behind, and memory flat', async (t) => {
  const cycles = { subs: 1000, cores: 200, warmup: 10 };
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const sim = await startSimulator({ clock: 'real' });
  t.after(() => sim.close());
  const ids = sim.createFleet(30);
  const coreCycle = async () => {
    const c = startCore(sim);
    await c.until(() => c.fleet.size === 30, 'the fleet');
    c.dispose();
  };
  // Warm-up: the first cycles fill caches that live as long as the process (compiled code,
  // the HTTP agent's pools, zod's schema caches); only what comes after them must stay flat.
  for (let i = 0; i < cycles.warmup; i++) await coreCycle();
  await eventually(() => sim.stats().openStreams === 0, 'the warm-up streams to close');
  const baseline = handles();
  const heapBefore = heapAfterGc();

  const core = startCore(sim, { maxLiveWorkspaces: 5 });
  await core.until(() => core.fleet.size === 30, 'the fleet');
  // A resync of 20 live workspaces: 20 reads in flight at once on the session's abort signal.
  core.sync.updateSettings({ maxLiveWorkspaces: 20 });
  await core.until(() => sim.stats().openStreams === 20, 'twenty live streams');
  await core.sync.refresh();
  core.sync.updateSettings({ maxLiveWorkspaces: 5 });
  for (let i = 0; i < cycles.subs; i++) core.sync.setVisibleWorkspaces(i % 2 ? [ids[i % 30]!, ids[(i + 7) % 30]!] : []);
  core.sync.setVisibleWorkspaces([]);
  await core.until(() => sim.stats().openStreams <= 5, 'the live set back to its cap', 20_000);
  core.dispose();

  const heapMid: number[] = [];
  for (let i = 0; i < cycles.cores; i++) {
    await coreCycle();
    if (i === cycles.cores / 2 - 1) heapMid.push(heapAfterGc());
  }
  await eventually(() => sim.stats().openStreams === 0, 'every stream closed on the server');
  await eventually(() => within(handles(), baseline), 'handles back to the baseline').catch(() => undefined);
  const after = handles();
  const heapAfter = heapAfterGc();
  const half = heapAfter - heapMid[0]!;
  console.log(
    `# hygiene: ${cycles.subs} live-set changes, ${cycles.cores} core start/dispose cycles; handles before ${JSON.stringify(baseline)} after ${JSON.stringify(after)}; ` +
      `heap after full GC ${mb(heapBefore)} -> ${mb(heapMid[0]!)} (half-way) -> ${mb(heapAfter)} MB; second half grew ${mb(half)} MB`,
  );
  for (const kind of KINDS) assert.ok((after[kind] ?? 0) <= (baseline[kind] ?? 0), `${kind}: ${after[kind]} > ${baseline[kind]}`);
  assert.deepEqual(warnings, [], 'no process warning (e.g. a listener leak warning)');
  // Flat: the second half stays within noise (-0.5 to +0.1 MB here); a leak of 12 KB per core
  // cycle would show as more than +1 MB over its 100 cycles.
  assert.ok(half < 2 ** 20, `the heap grew ${mb(half)} MB over the last ${cycles.cores / 2} cycles`);
  assert.ok(heapAfter - heapBefore < 4 * 2 ** 20, `the heap grew ${mb(heapAfter - heapBefore)} MB over all cycles`);
});

for (const intervalMs of [2000, 300]) {
  test(`an agent ID flipping every ${intervalMs} ms: 3 automatic reconnects, then the user is asked`, async (t) => {
    const sim = await startSimulator({ clock: 'real', agentTimings: { connectMs: 5, startingMs: 5, readyMs: 5 } });
    t.after(() => sim.close());
    const id = sim.createWorkspace({ name: 'dev' });
    const core = startBoundCore(t, sim, id);
    await core.until(() => !!core.fleet.findAgent(id, 'main', null), 'the workspace');
    const machine = new ReconnectRunner({ clock: systemClock });
    t.after(() => machine.dispose());
    const kinds: string[] = [];
    machine.onDecision((d) => {
      kinds.push(d.kind);
      if (d.kind === 'reconnect') machine.dispatch({ type: 'reconnected' });
    });
    const follower = new BindingFollower(core.fleet, new BindingTracker(systemClock), machine);
    core.sync.onChanges((c) => follower.onChanges(c));
    follower.follow({ workspaceId: id, name: 'main', parentName: null });
    sim.scenario('flapping', id, { intervalMs });
    await core.until(() => kinds.includes('ask-loop-cap'), 'the loop cap', 20_000);
    sim.scenario('stop-flapping', id);
    const reconnects = kinds.filter((k) => k === 'reconnect').length;
    console.log(`# flapping every ${intervalMs} ms: ${reconnects} automatic reconnects before the loop cap asked`);
    assert.equal(reconnects, 3);
  });
}
