/**
 * Scenarios 3 and 4 against a simulator in a child process (so that its CPU is not counted):
 * the fleet at scale under churn, for this extension and the polling baseline; and a reconnect
 * storm of many clients when the control plane restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { baselinePoller, core, until } from './core';
import { percentile, type Figure } from './report';

interface SimProcess {
  url: string;
  token: string;
  admin(path: string, body?: unknown): Promise<any>;
  stop(): void;
}

async function simProcess(): Promise<SimProcess> {
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

export async function fleetScale(workspaces: number, seconds: number, eventsPerSecond: number, withBaseline: boolean): Promise<Figure[]> {
  const sim = await simProcess();
  try {
    await sim.admin('fleet', { count: workspaces, agentsPerWorkspace: 2 });
    const gcRss = () => process.memoryUsage().rss / 2 ** 20;
    const c = core(sim);
    await until(() => c.fleet.size === workspaces, 120_000, 'the fleet');
    const stats0 = await sim.admin('stats');
    const before = stats0.requests as number;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let peakRss = gcRss();
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, gcRss())), 250);
    await sim.admin('churn', { eventsPerSecond });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    await sim.admin('churn/stop', {});
    const cpu = process.cpuUsage(cpu0);
    const elapsed = (performance.now() - t0) / 1000;
    clearInterval(rssTimer);
    const stats1 = await sim.admin('stats');
    const requests = (stats1.requests as number) - before; // the admin surface is not counted
    const bytes = (stats1.bytesSent as number) - (stats0.bytesSent as number); // it is here, but small: a few stats answers
    // Lost events: after a resync the model must equal the server, agent by agent.
    await c.sync.refresh();
    const server = lifecycles(await sim.admin('state'));
    let lost = 0;
    for (const [id, lc] of server) if (c.fleet.agentById(id)?.agent.lifecycle_state !== lc) lost++;
    c.dispose();
    const prefix = `fleet_${workspaces}x2`;
    const figures: Figure[] = [
      {
        name: `${prefix}_cpu_pct_of_core`,
        value: ((cpu.user + cpu.system) / 1000 / (elapsed * 1000)) * 100,
        ...(workspaces === 2000 ? { target: '< 25' } : {}),
      },
      { name: `${prefix}_peak_rss_mb`, value: peakRss, ...(workspaces === 2000 ? { target: '< 150' } : {}) },
      { name: `${prefix}_events_lost`, value: lost, ...(workspaces === 2000 ? { target: '<= 0' } : {}) },
      { name: `${prefix}_requests_per_s`, value: requests / elapsed },
      { name: `${prefix}_kb_per_s`, value: bytes / 1024 / elapsed },
    ];
    if (withBaseline) {
      const bstats0 = await sim.admin('stats');
      const b0 = bstats0.requests as number;
      const bcpu0 = process.cpuUsage();
      const bt0 = performance.now();
      await sim.admin('churn', { eventsPerSecond });
      const poller = baselinePoller(sim.url, sim.token, 5000, () => {});
      await new Promise((r) => setTimeout(r, Math.min(seconds, 30) * 1000));
      poller.stop();
      await sim.admin('churn/stop', {});
      const bcpu = process.cpuUsage(bcpu0);
      const belapsed = (performance.now() - bt0) / 1000;
      const bstats1 = await sim.admin('stats');
      const breq = (bstats1.requests as number) - b0;
      const bkb = ((bstats1.bytesSent as number) - (bstats0.bytesSent as number)) / 1024 / belapsed;
      const ours = requests / elapsed;
      figures.push(
        { name: `baseline_${prefix}_cpu_pct_of_core`, value: ((bcpu.user + bcpu.system) / 1000 / (belapsed * 1000)) * 100 },
        { name: `baseline_${prefix}_requests_per_s`, value: breq / belapsed },
        { name: 'requests_fewer_than_baseline_factor', value: ours > 0 ? breq / belapsed / ours : Infinity, target: '>= 10' },
        { name: `baseline_${prefix}_kb_per_s`, value: bkb },
        { name: 'bytes_fewer_than_baseline_factor', value: bytes > 0 ? bkb / (bytes / 1024 / elapsed) : Infinity },
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
    const restartAt = Date.now();
    await sim.admin('restart', {});
    const liveAfter = new Map<number, number>();
    const started = performance.now();
    while (liveAfter.size < clients && performance.now() - started < 60_000) {
      await new Promise((r) => setTimeout(r, 50));
      cores.forEach(({ c, id }, i) => {
        const heard = c.fleet.lastHeard(id) ?? 0;
        if (!liveAfter.has(i) && heard > restartAt) liveAfter.set(i, heard - restartAt);
      });
    }
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
    ];
  } finally {
    sim.stop();
  }
}
