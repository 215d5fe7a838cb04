/**
 * Idle cost of one editor: a core with the extension's default settings (15 s list poll, 20 live
 * workspaces), bound to one workspace, the view visible with every workspace shown, and nothing
 * happening at the deployment. Requests are counted at the simulator over the window; stream
 * pings are frames, not requests.
 */
import { core, until } from './core';
import type { Figure } from './report';
import { simProcess } from './scale';

export async function idleRequests(workspaces: number, windowMs: number): Promise<Figure[]> {
  const sim = await simProcess();
  try {
    const ids = ((await sim.admin('fleet', { count: workspaces, agentsPerWorkspace: 1 })) as { ids: string[] }).ids;
    const c = core(sim, { maxLiveWorkspaces: 20 });
    c.sync.setBoundWorkspace(ids[0]);
    c.sync.setBoundAgentName(ids[0]!, 'main');
    c.sync.setVisibleWorkspaces(ids);
    await until(() => c.fleet.size === workspaces, 60_000, 'the fleet');
    // Bound workspace: two streams; every other visible one: one.
    const streams = Math.min(workspaces, 20) + 1;
    for (let i = 0; i < 600 && ((await sim.admin('stats')).openStreams as number) < streams; i++)
      await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 2000)); // the reads that follow the streams' opening
    const s0 = await sim.admin('stats');
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowMs));
    const s1 = await sim.admin('stats');
    const minutes = (performance.now() - t0) / 60_000;
    c.dispose();
    const byRoute = Object.entries(s1.requestsByRoute as Record<string, number>)
      .map(([r, n]) => [r, n - ((s0.requestsByRoute as Record<string, number>)[r] ?? 0)] as const)
      .filter(([, n]) => n > 0)
      .map(([r, n]) => `${r} ${n}`);
    process.stderr.write(`bench: idle, ${workspaces} workspaces, ${(minutes * 60).toFixed(0)} s: ${byRoute.join(', ') || 'no request'}\n`);
    return [
      {
        name: `idle_requests_per_min_${workspaces}ws`,
        value: ((s1.requests as number) - (s0.requests as number)) / minutes,
        target: '<= 0.2',
      },
    ];
  } finally {
    sim.stop();
  }
}
