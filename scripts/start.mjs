// `npm start`: the extension in a real VS Code in the browser, against a simulated Coder
// deployment. Builds and packages the VSIX, installs code-server when missing (the e2e setup),
// starts the simulator (when the project has one), then code-server with the packaged
// extension installed and CODER_URL / CODER_SESSION_TOKEN pointing at the simulator.
// Ctrl-C stops everything.
//   node scripts/start.mjs [--port 8080] [--no-sim] [--experimental-repair-routes]   (PORT=... works too)
// By default the simulated deployment behaves like a current real one: no lifecycle-replay or
// reinitialize route. --experimental-repair-routes turns them on.
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
const args = process.argv.slice(2);
const argValue = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const port = Number(argValue('--port') ?? process.env.PORT ?? 8080);
const useSim = !args.includes('--no-sim');
const repairRoutes = args.includes('--experimental-repair-routes');
const demoWorkspace = process.env.CODER_WORKSPACE_NAME ?? 'dev';
const demoAgent = process.env.CODER_WORKSPACE_AGENT_NAME ?? 'main';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const vsix = join(root, `${pkg.name}-${pkg.version}.vsix`);
const codeServer = join(root, '.cache', 'code-server', 'node_modules', '.bin', 'code-server');
const demoDir = join(root, '.cache', 'demo');
const say = (msg) => console.log(`start: ${msg}`);

/** Children run in their own process groups so that stopping one stops all of its helpers. */
const children = [];
let stopping = false;

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  say('stopping...');
  const exits = children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', r))));
  for (const c of children) killGroup(c, 'SIGTERM');
  const timer = setTimeout(() => children.forEach((c) => killGroup(c, 'SIGKILL')), 5_000);
  await Promise.all(exits);
  clearTimeout(timer);
  children.forEach((c) => killGroup(c, 'SIGKILL'));
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
process.on('exit', () => children.forEach((c) => killGroup(c, 'SIGKILL')));

function portFree(p) {
  return new Promise((r) => {
    const srv = createServer();
    srv.once('error', () => r(false));
    srv.listen(p, '127.0.0.1', () => srv.close(() => r(true)));
  });
}

/** Starts the simulator and resolves with its first stdout line, {url, token, adminToken}. */
async function startSimulator() {
  let cmd;
  if (existsSync('test/sim/main.ts')) {
    cmd = ['--import', 'tsx', 'test/sim/main.ts', '--json', '--rebuild-every', '180'];
    if (repairRoutes) cmd.push('--experimental-repair-routes');
  } else if (existsSync('test/sim/index.ts')) {
    const script =
      "const { startSimulator } = await import('./test/sim/index.ts');" +
      "const sim = await startSimulator({ fleet: 'demo', clock: 'real' });" +
      'console.log(JSON.stringify({ url: sim.url, token: sim.token, adminToken: sim.adminToken }));' +
      'const close = async () => { await sim.close(); process.exit(0); };' +
      "process.on('SIGTERM', close); process.on('SIGINT', close);";
    cmd = ['--import', 'tsx', '--input-type=module', '-e', script];
  } else {
    return undefined;
  }
  const logFile = join(demoDir, 'simulator.log');
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, cmd, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  child.stderr.pipe(log);
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`the simulator printed nothing within 60 s; see ${logFile}`)), 60_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      res(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`the simulator exited (code ${code}); see ${logFile}`));
    });
  });
  lines.on('line', (line) => log.write(`${line}\n`));
  child.once('exit', (code, signal) => {
    if (!stopping) say(`the simulator stopped (code ${code}, signal ${signal}); see ${logFile}`);
  });
  const info = JSON.parse(first);
  if (typeof info.url !== 'string' || typeof info.token !== 'string') {
    throw new Error(`unexpected first line from the simulator: ${first}`);
  }
  return { ...info, logFile };
}

// 1. Build, package, install code-server when missing.
const run = (title, cmdArgs) => {
  say(title);
  execFileSync(process.execPath, cmdArgs, { stdio: 'inherit' });
};
run('building and packaging the extension', ['scripts/package.mjs']);
run('checking the e2e setup (code-server, chromium)', ['test/e2e/scripts/setup.mjs']);

if (!(await portFree(port))) {
  console.error(`start: port ${port} on 127.0.0.1 is in use; pick another with --port N or PORT=N`);
  process.exit(1);
}

// 2. The simulated deployment.
mkdirSync(demoDir, { recursive: true });
let sim;
if (useSim) {
  try {
    sim = await startSimulator();
  } catch (err) {
    console.error(`start: ${err.message}`);
    await stopAll(1);
  }
  if (sim) say(`simulated Coder deployment at ${sim.url} (log: ${sim.logFile})`);
  else say('no simulator in this checkout yet (test/sim/): starting without a deployment (signed out)');
}

// 3. code-server with the packaged extension, in project-local folders.
const extensionsDir = join(demoDir, 'extensions');
const userDataDir = join(demoDir, 'user-data');
const folder = join(demoDir, 'workspace');
const config = join(demoDir, 'code-server.yaml');
rmSync(extensionsDir, { recursive: true, force: true }); // always the VSIX just built
for (const d of [extensionsDir, join(userDataDir, 'User'), folder]) mkdirSync(d, { recursive: true });
writeFileSync(config, 'auth: none\n');
const settingsFile = join(userDataDir, 'User', 'settings.json');
if (!existsSync(settingsFile)) {
  const settings = { 'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off', 'update.mode': 'none' };
  writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
}
const readme = join(folder, 'README.md');
if (!existsSync(readme)) {
  writeFileSync(
    readme,
    '# Demo workspace\n\nAn empty folder opened by `npm start`. The **Coder Status** view in the activity bar ' +
      'shows the simulated deployment; the status bar shows the agent this window is bound to.\n',
  );
}

const env = { ...process.env };
if (sim) {
  Object.assign(env, {
    CODER_URL: sim.url,
    CODER_SESSION_TOKEN: sim.token,
    CODER_WORKSPACE_NAME: demoWorkspace,
    CODER_WORKSPACE_AGENT_NAME: demoAgent,
  });
}
const common = ['--config', config, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
say(`installing ${vsix} into ${extensionsDir}`);
execFileSync(codeServer, [...common, '--install-extension', vsix], { env, stdio: ['ignore', 'ignore', 'inherit'] });

const cs = spawn(
  codeServer,
  [
    ...common,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    folder,
  ],
  { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
);
children.push(cs);
const csLog = createWriteStream(join(demoDir, 'code-server.log'));
cs.stdout.pipe(csLog);
cs.stderr.pipe(csLog);
cs.once('exit', (code, signal) => {
  if (stopping) return;
  console.error(`start: code-server exited (code ${code}, signal ${signal}); see ${join(demoDir, 'code-server.log')}`);
  void stopAll(code ?? 1);
});
createInterface({ input: cs.stdout }).on('line', (line) => {
  if (!line.includes('HTTP server listening')) return;
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`;
  console.log(
    [
      '',
      '  Coder Workspace Status is running in VS Code (code-server):',
      '',
      `    ${url}`,
      '',
      sim
        ? `  Deployment: ${sim.url} (simulated; bound workspace "${demoWorkspace}", agent "${demoAgent}")`
        : '  Deployment: none (the view shows the signed-out welcome)',
      `  Logs: ${demoDir}`,
      '  Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
});
