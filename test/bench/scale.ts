/**
 * Scenarios 3 and 4 against a simulator in a child process (so that its CPU is not counted):
 * the fleet at scale under churn, for this extension and the polling baseline; and a reconnect
 * storm of many clients when the control plane restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { baselinePoller, core, until } from './core';
import type { Figure } from './report';

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
    await new Promise((r) => setTimeout(r, 1000));
    const restartAt = Date.now();
    await sim.admin('restart', {});
    const buckets: number[] = [];
    let last = (await sim.admin('stats').catch(() => ({ connectionsAccepted: 0 }))).connectionsAccepted as number;
    let resyncedMs = NaN;
    const started = performance.now();
    while (performance.now() - started < 60_000) {
      await new Promise((r) => setTimeout(r, 250));
      const s = await sim.admin('stats').catch(() => undefined);
      if (s) {
        buckets.push(((s.connectionsAccepted as number) - last) * 4);
        last = s.connectionsAccepted as number;
      }
      if (cores.every(({ c, id }) => (c.fleet.lastHeard(id) ?? 0) > restartAt)) {
        resyncedMs = Date.now() - restartAt;
        break;
      }
    }
    for (const { c } of cores) c.dispose();
    return [
      { name: 'storm_clients', value: clients },
      { name: 'storm_peak_connections_per_s', value: Math.max(0, ...buckets) },
      { name: 'storm_all_resynced_ms', value: resyncedMs },
    ];
  } finally {
    sim.stop();
  }
}
