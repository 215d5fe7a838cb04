/**
 * `npm run sim`: the simulated deployment as a process, with the demo fleet.
 *   --port <n>               listen port (default: a free one)
 *   --scenario <name>        trigger a scenario after start (with --workspace <name>, default dev)
 *   --rebuild-every <s>      restart the 'dev' and 'vm' workspaces every s seconds (the demo of npm start)
 *   --experimental-repair-routes
 *                            serve the lifecycle-replay and reinitialize routes no Coder release has
 *                            (default: off, like a current real deployment)
 *   --json                   print {"url","token","adminToken"} as the first line
 *   --empty                  start without the demo fleet
 *   --quiet                  print nothing else (for scripts)
 */
import { parseArgs } from 'node:util';
import { startSimulator, type ScenarioName } from './index';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    scenario: { type: 'string' },
    workspace: { type: 'string', default: 'dev' },
    'rebuild-every': { type: 'string' },
    json: { type: 'boolean', default: false },
    empty: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    'experimental-repair-routes': { type: 'boolean', default: false },
  },
});

async function main(): Promise<void> {
  const routes = values['experimental-repair-routes'] === true;
  const sim = await startSimulator({
    fleet: values.empty ? 'empty' : 'demo',
    port: values.port ? Number(values.port) : 0,
    operations: { replay: routes, reinit: routes },
  });
  if (values.json) console.log(JSON.stringify({ url: sim.url, token: sim.token, adminToken: sim.adminToken }));
  if (values.quiet) return;
  const dev = sim.world.findWorkspace(values.workspace ?? 'dev');
  const admin = (path: string, body: string) =>
    `curl -s -X POST -H 'X-Sim-Admin-Token: ${sim.adminToken}' -d '${body}' ${sim.url}/__sim/${path}`;
  console.log(`Simulated Coder deployment at ${sim.url}
  session token (user alice): ${sim.token}
  admin token:                ${sim.adminToken}

Try:
  curl -s -H 'Coder-Session-Token: ${sim.token}' '${sim.url}/api/v2/workspaces?q=owner:me'
Scenarios (workspace by name or id):`);
  for (const s of [
    'rebuild',
    'surviving-agent',
    'never-connects',
    'start-error',
    'start-timeout',
    'stop',
    'delete',
    'build-failed',
    'flapping',
    'stop-flapping',
  ]) {
    console.log(`  ${admin('scenario', JSON.stringify({ name: s, workspace: 'dev' }))}`);
  }
  console.log(
    `Faults: ${admin('fault', '{"kind":"drop-streams"}')}  (kinds: drop-streams half-open malformed-frames extra-fields http-5xx latency expire-token server-shutdown clear)`,
  );
  const webMain = sim.world
    .findWorkspace('web')
    ?.builds.at(-1)
    ?.agents.find((a) => a.name === 'main' && !a.parentId);
  if (webMain) {
    const api = `curl -s -H 'Coder-Session-Token: ${sim.token}' ${sim.url}/api/v2/workspaceagents/${webMain.id}/containers`;
    console.log(`Dev containers of web.main (IDs change with every rebuild of web):
  ${api}
  ${api.replace('curl -s', 'curl -s -X POST')}/devcontainers/<id from the list>/recreate
  as a server before v2.23: ${admin('operations', '{"devcontainers":false}')}`);
  }

  console.log(`Repair routes (lifecycle replay, reinitialize): ${routes ? 'on (experimental)' : 'off, as on every Coder release'}`);
  if (values.scenario && dev) sim.scenario(values.scenario as ScenarioName, dev.id);
  // The suspend/resume VM shows its failure from the start: one build after its first.
  const vm = values.empty ? undefined : sim.world.findWorkspace('vm');
  const rebuild = (w: { id: string; name: string }) => {
    try {
      sim.restartWorkspace(w.id);
      console.log(`${new Date().toISOString()} rebuilding ${w.name}`);
    } catch (e) {
      console.log(`rebuild of ${w.name} skipped: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  if (vm) rebuild(vm);
  if (values['rebuild-every']) {
    const every = Number(values['rebuild-every']) * 1000;
    setInterval(() => {
      for (const w of [dev, vm]) if (w) rebuild(w);
    }, every).unref();
  }
  const shutdown = () => void sim.close().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

void main();
