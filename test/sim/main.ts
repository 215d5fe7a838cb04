/**
 * `npm run sim`: the simulated deployment as a process, with the demo fleet.
 *   --port <n>               listen port (default: a free one)
 *   --scenario <name>        trigger a scenario after start (with --workspace <name>, default dev)
 *   --rebuild-every <s>      restart the 'dev' workspace every s seconds (the demo of npm start)
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
  },
});

async function main(): Promise<void> {
  const sim = await startSimulator({ fleet: values.empty ? 'empty' : 'demo', port: values.port ? Number(values.port) : 0 });
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

  if (values.scenario && dev) sim.scenario(values.scenario as ScenarioName, dev.id);
  if (values['rebuild-every'] && dev) {
    const every = Number(values['rebuild-every']) * 1000;
    setInterval(() => {
      try {
        sim.restartWorkspace(dev.id);
        console.log(`${new Date().toISOString()} rebuilding ${dev.name}`);
      } catch (e) {
        console.log(`rebuild skipped: ${e instanceof Error ? e.message : String(e)}`);
      }
    }, every).unref();
  }
  const shutdown = () => void sim.close().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

void main();
