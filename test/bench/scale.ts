/**
 * Scenarios 3 and 4 against a simulator in a child process (so that its CPU is not counted):
 * the fleet at scale under churn, for this extension and the polling baseline; and a reconnect
 * storm of many clients when the control plane restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { AgentIdFreshness } from './freshness';
import { baselinePoller, core, until } from './core';
import { percentile, type Figure } from './report';

export interface SimProcess {
  url: string;
  token: string;
  admin(path: string, body?: unknown): Promise<any>;
  stop(): void;
}

export async function simProcess(): Promise<SimProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/sim/main.ts', '--json', '--empty', '--quiet'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', () => reject(new Error('the simulator exited')));
  });
  const info = JSON.parse(first) as { url: string; token: string; adminToken: string };
  return {
    url: info.url,
    token: info.token,
    async admin(path, body) {
      const res = await fetch(`${info.url}/__sim/${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'X-Sim-Admin-Token': info.adminToken },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return res.json();
    },
    stop: () => child.kill('SIGTERM'),
  };
}

function lifecycles(state: { workspaces: any[] }): Map<string, string> {
  const m = new Map<string, string>();
  for (const ws of state.workspaces)
    for (const r of ws.latest_build.resources) for (const a of r.agents ?? []) m.set(a.id, a.lifecycle_state);
  return m;
}

/** Heap in use after a full collection, in MB: what is live, not what the collector has yet to free. */
function liveHeapMb(): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** Requests per route between two stats answers, on stderr: where a request rate comes from. */
function routes(who: string, a: { requestsByRoute: Record<string, number> }, b: { requestsByRoute: Record<string, number> }): void {
  const diff = Object.entries(b.requestsByRoute)
    .map(([r, n]) => [r, n - (a.requestsByRoute[r] ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${r} ${n}`);
  process.stderr.write(`bench: requests of ${who}: ${diff.join(', ') || 'none'}\n`);
}

/** Share of builds among churn events: at 1,000 events/s over 2,000 workspaces, each is rebuilt about every 3 min. */
const BUILD_SHARE = 0.01;

export async function fleetScale(workspaces: number, seconds: number, eventsPerSecond: number, withBaseline: boolean): Promise<Figure[]> {
  const sim = await simProcess();
  try {
    await sim.admin('fleet', { count: workspaces, agentsPerWorkspace: 2 });
    const gcRss = () => process.memoryUsage().rss / 2 ** 20;
    const heap0 = liveHeapMb();
    const c = core(sim);
    await until(() => c.fleet.size === workspaces, 120_000, 'the fleet');
    // The live set's streams open after the list: the window starts once they are up.
    const live = Math.min(workspaces, 20);
    for (let i = 0; i < 600 && ((await sim.admin('stats')).openStreams as number) < live; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1000));
    const heapLoaded = liveHeapMb() - heap0;
    const stats0 = await sim.admin('stats');
    const before = stats0.requests as number;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let peakRss = gcRss();
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, gcRss())), 250);
    const fresh = new AgentIdFreshness(Date.now());
    const following = fresh.follow(c);
    await sim.admin('churn', { eventsPerSecond, buildShare: BUILD_SHARE });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    await sim.admin('churn/stop', {});
    const cpu = process.cpuUsage(cpu0);
    const elapsed = (performance.now() - t0) / 1000;
    clearInterval(rssTimer);
    const stats1 = await sim.admin('stats');
    const requests = (stats1.requests as number) - before; // the admin surface is not counted
    const bytes = (stats1.bytesSent as number) - (stats0.bytesSent as number); // it is here, but small: a few stats answers
    routes('this extension', stats0, stats1);
    // Builds still running when the churn stopped finish (2.5 s) and their agents settle (4.5 s);
    // the list poll (15 s) must have run since, so that every new agent ID had its chance to be seen.
    await new Promise((r) => setTimeout(r, 16_000));
    following.dispose();
    const unseen = fresh.unseen(await sim.admin('state'));
    // Lost events: after a resync the model must equal the server, agent by agent.
    await c.sync.refresh();
    const server = lifecycles(await sim.admin('state'));
    let lost = 0;
    for (const [id, lc] of server) if (c.fleet.agentById(id)?.agent.lifecycle_state !== lc) lost++;
    const heapChurned = liveHeapMb() - heap0;
    const rssAfter = gcRss();
    // The same churn with every row expanded in a visible view: new agents of a row in view are read whole.
    let inView: number | undefined;
    if (workspaces === 2000) {
      c.sync.setVisibleWorkspaces(c.fleet.workspaces().map((w) => w.id));
      await new Promise((r) => setTimeout(r, 2000)); // the live set's streams move to the first rows in view
      const v0 = await sim.admin('stats');
      const vt0 = performance.now();
      await sim.admin('churn', { eventsPerSecond, buildShare: BUILD_SHARE });
      await new Promise((r) => setTimeout(r, Math.min(seconds, 30) * 1000));
      await sim.admin('churn/stop', {});
      const v1 = await sim.admin('stats');
      inView = ((v1.requests as number) - (v0.requests as number)) / ((performance.now() - vt0) / 1000);
      routes('this extension, every row in view', v0, v1);
    }
    c.dispose();
    const prefix = `fleet_${workspaces}x2`;
    const at2000 = workspaces === 2000;
    const figures: Figure[] = [
      {
        name: `${prefix}_cpu_pct_of_core`,
        value: ((cpu.user + cpu.system) / 1000 / (elapsed * 1000)) * 100,
        ...(at2000 ? { target: '< 25' } : {}),
      },
      { name: `${prefix}_peak_rss_mb`, value: peakRss, ...(at2000 ? { target: '< 150' } : {}) },
      { name: `${prefix}_core_heap_mb`, value: heapLoaded, ...(at2000 ? { target: '< 40' } : {}) },
      { name: `${prefix}_core_heap_after_churn_mb`, value: heapChurned, ...(at2000 ? { target: '< 40' } : {}) },
      { name: `${prefix}_process_rss_mb`, value: rssAfter },
      { name: `${prefix}_events_lost`, value: lost, ...(at2000 ? { target: '<= 0' } : {}) },
      { name: `${prefix}_requests_per_s`, value: requests / elapsed },
      ...(inView === undefined ? [] : [{ name: `${prefix}_every_row_in_view_requests_per_s`, value: inView }]),
      { name: `${prefix}_kb_per_s`, value: bytes / 1024 / elapsed },
      { name: `${prefix}_build_to_agent_ids_samples`, value: fresh.lags.length },
      { name: `${prefix}_build_agent_ids_never_seen`, value: unseen },
      { name: `${prefix}_build_to_agent_ids_p50_ms`, value: percentile(fresh.lags, 50) },
      { name: `${prefix}_build_to_agent_ids_p99_ms`, value: percentile(fresh.lags, 99) },
    ];
    if (withBaseline) {
      const bstats0 = await sim.admin('stats');
      const b0 = bstats0.requests as number;
      const bcpu0 = process.cpuUsage();
      const bt0 = performance.now();
      const bfresh = new AgentIdFreshness(Date.now());
      await sim.admin('churn', { eventsPerSecond, buildShare: BUILD_SHARE });
      const poller = baselinePoller(sim.url, sim.token, 5000, (list) =>
        bfresh.saw(list.flatMap((w) => w.latest_build.resources.flatMap((r) => r.agents ?? []))),
      );
      await new Promise((r) => setTimeout(r, Math.min(seconds, 30) * 1000));
      await sim.admin('churn/stop', {});
      const bcpu = process.cpuUsage(bcpu0);
      const belapsed = (performance.now() - bt0) / 1000;
      const bstats1 = await sim.admin('stats');
      routes('the 5 s poller', bstats0, bstats1);
      await new Promise((r) => setTimeout(r, 6000)); // the builds in flight, for the freshness figures
      poller.stop();
      const bunseen = bfresh.unseen(await sim.admin('state'));
      const breq = (bstats1.requests as number) - b0;
      const bkb = ((bstats1.bytesSent as number) - (bstats0.bytesSent as number)) / 1024 / belapsed;
      const ours = requests / elapsed;
      const oursKb = bytes / 1024 / elapsed;
      const p99 = percentile(fresh.lags, 99);
      const bp99 = percentile(bfresh.lags, 99);
      figures.push(
        { name: `baseline_${prefix}_cpu_pct_of_core`, value: ((bcpu.user + bcpu.system) / 1000 / (belapsed * 1000)) * 100 },
        { name: `baseline_${prefix}_requests_per_s`, value: breq / belapsed },
        // With no request in the window, the factor is at least what one request would give.
        { name: 'requests_fewer_than_baseline_factor', value: breq / belapsed / Math.max(ours, 1 / elapsed), target: '>= 10' },
        { name: `baseline_${prefix}_kb_per_s`, value: bkb },
        { name: 'bytes_fewer_than_baseline_factor', value: oursKb > 0 ? bkb / oursKb : Infinity, target: '>= 10' },
        { name: `baseline_${prefix}_build_to_agent_ids_samples`, value: bfresh.lags.length },
        { name: `baseline_${prefix}_build_agent_ids_never_seen`, value: bunseen },
        { name: `baseline_${prefix}_build_to_agent_ids_p50_ms`, value: percentile(bfresh.lags, 50) },
        { name: `baseline_${prefix}_build_to_agent_ids_p99_ms`, value: bp99 },
        // At least as fresh as the baseline: our p99 lag over the baseline's.
        { name: 'agent_ids_staleness_vs_baseline_ratio', value: bp99 > 0 ? p99 / bp99 : NaN, target: '<= 1' },
      );
    }
    return figures;
  } finally {
    sim.stop();
  }
}

/**
 * Many clients, each bound to its own workspace (two streams and a list read each), then the
 * deployment restarts. From the simulator's request log (wall-clock times), each client's first
 * request after the restart is when it began reconnecting (its sockets count once); each
 * client's first answer heard after the restart is when it was live again.
 */
export async function reconnectStorm(clients: number): Promise<Figure[]> {
  const sim = await simProcess();
  try {
    const ids: string[] = [];
    for (let i = 0; i < clients; i++) ids.push((await sim.admin('workspaces', { spec: { name: `storm${i}x` } })).id);
    const cores = ids.map((id, i) => {
      const c = core(sim, { workspaceFilter: `name:storm${i}x`, pollIntervalMs: 600_000, maxLiveWorkspaces: 1 });
      c.sync.setBoundWorkspace(id);
      c.sync.setBoundAgentName(id, 'main');
      return { c, id };
    });
    await until(() => cores.every(({ c, id }) => !!c.fleet.workspace(id)), 120_000, 'every client');
    await until(() => cores.every(({ c, id }) => c.sync.rungOf(id) === 'connection-watch'), 60_000, 'every stream');
    await new Promise((r) => setTimeout(r, 1000));
    await sim.admin('log', { on: true });
    await sim.admin('log'); // start from an empty log
    // 500 clients share this process where each editor has its own: a stalled event loop here
    // bunches their timers up, which the histogram would show as the extension's doing.
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const restartAt = Date.now();
    // The simulator restarts 10 ms after answering and drops every socket: on a busy event loop
    // here the answer may not have been read yet, and its connection is reset. It restarted anyway.
    await sim.admin('restart', {}).catch(() => undefined);
    const liveAfter = new Map<number, number>();
    const started = performance.now();
    while (liveAfter.size < clients && performance.now() - started < 60_000) {
      await new Promise((r) => setTimeout(r, 50));
      cores.forEach(({ c, id }, i) => {
        const heard = c.fleet.lastHeard(id) ?? 0;
        if (!liveAfter.has(i) && heard > restartAt) liveAfter.set(i, heard - restartAt);
      });
    }
    lag.disable();
    const log = ((await sim.admin('log')) as { requests: { at: number; url: string }[] }).requests;
    for (const { c } of cores) c.dispose();
    const clientOf = new Map<string, number>();
    ids.forEach((id, i) => clientOf.set(id, i));
    const began = new Map<number, number>();
    let unattributed = 0;
    let upgrades = 0;
    const upgradesPerSecond = new Map<number, number>();
    for (const r of log) {
      if (r.at < restartAt) continue;
      const byId = /\/(?:workspaces|workspaceagents)\/([0-9a-f-]{36})/.exec(r.url)?.[1];
      const byName = /storm(\d+)x/.exec(decodeURIComponent(r.url))?.[1];
      const i = byId !== undefined ? clientOf.get(byId) : byName !== undefined ? Number(byName) : undefined;
      if (i === undefined) {
        unattributed++;
        continue;
      }
      if (r.url.includes('/watch-ws') || r.url.includes('/agent-connection-watch')) {
        upgrades++;
        const s = Math.floor((r.at - restartAt) / 1000);
        upgradesPerSecond.set(s, (upgradesPerSecond.get(s) ?? 0) + 1);
      }
      if (!began.has(i)) began.set(i, r.at - restartAt);
    }
    const histogram = new Map<number, number>();
    for (const ms of began.values()) histogram.set(Math.floor(ms / 1000), (histogram.get(Math.floor(ms / 1000)) ?? 0) + 1);
    const seconds = [...histogram.keys()].sort((a, b) => a - b);
    process.stderr.write(`bench: storm: clients beginning to reconnect, per second after the restart (${clients} clients)\n`);
    for (const s of seconds)
      process.stderr.write(
        `bench: storm:   ${String(s).padStart(3)} s  ${String(histogram.get(s)).padStart(4)}  ${'#'.repeat(Math.ceil((histogram.get(s)! * 50) / clients))}\n`,
      );
    if (unattributed) process.stderr.write(`bench: storm: ${unattributed} request(s) not attributed to a client\n`);
    const live = [...liveAfter.values()];
    return [
      { name: 'storm_clients', value: clients },
      { name: 'storm_clients_reconnected', value: began.size },
      { name: 'storm_peak_clients_beginning_per_s', value: Math.max(0, ...histogram.values()), target: `<= ${clients / 10}` },
      { name: 'storm_peak_upgrades_per_s', value: Math.max(0, ...upgradesPerSecond.values()) },
      { name: 'storm_upgrades_per_client', value: upgrades / Math.max(1, began.size) },
      { name: 'storm_live_again_p50_ms', value: live.length === clients ? percentile(live, 50) : NaN, target: '<= 10000' },
      { name: 'storm_live_again_max_ms', value: live.length === clients ? Math.max(...live) : NaN, target: '<= 20000' },
      { name: 'storm_clients_not_live_after_60_s', value: clients - live.length, target: '<= 0' },
      { name: 'storm_bench_event_loop_max_lag_ms', value: lag.max / 1e6 },
    ];
  } finally {
    sim.stop();
  }
}
