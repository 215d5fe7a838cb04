// Starts code-server (VS Code in the browser with a real Node extension host) with the packaged
// VSIX installed into a fresh extensions folder, a fresh user-data folder and its own HOME, so
// that each start is hermetic: no settings, credentials or extensions leak in from the machine.
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { removeDir, spawnGroup, stopGroup, trackDir } from './processes';
import { filesUnder } from './secrets';

export const projectRoot = resolve(__dirname, '..', '..');
export const codeServerBin = join(projectRoot, '.cache', 'code-server', 'node_modules', '.bin', 'code-server');

interface Manifest {
  name: string;
  publisher: string;
  version: string;
}
const manifest = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as Manifest;

/** `<publisher>.<name>`, as VS Code names the extension (and its log folder). */
export const extensionId = `${manifest.publisher}.${manifest.name}`;
export const defaultVsix = join(projectRoot, `${manifest.name}-${manifest.version}.vsix`);

/** Settings that keep the workbench quiet and deterministic; a test's settings override them. */
const baseSettings: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'git.enabled': false,
  'github.gitAuthentication': false,
};

export interface CodeServerOptions {
  /** Merged into `<user-data-dir>/User/settings.json`. */
  settings?: Record<string, unknown>;
  /** Extra environment of code-server and so of the extension host; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Folder to open; default: a fresh empty one. */
  folder?: string;
  /** VSIX to install; default: the packaged `<name>-<version>.vsix` at the project root. */
  vsix?: string;
  /**
   * Files written into the user-data folder before the start, by path relative to it (e.g. another
   * extension's global storage). They are the user's own, so the secrets sweep skips them.
   */
  userDataFiles?: Record<string, string>;
  /** Upper bound of the start (install + listen), default 60 s. */
  startTimeoutMs?: number;
  /** code-server's `--log` level, which its extension hosts' log channels follow (default: info). */
  logLevel?: 'trace' | 'debug' | 'info';
}

export interface CodeServer {
  /** Workbench URL with the folder, e.g. `http://127.0.0.1:41234/?folder=/tmp/...`. */
  url: string;
  port: number;
  folder: string;
  userDataDir: string;
  extensionsDir: string;
  /** The HOME of code-server and its extension host. */
  home: string;
  /** `<user-data-dir>/logs`: one timestamped folder per server session, `exthost1/` inside. */
  logsDir: string;
  /** Absolute paths of the files written from `userDataFiles`. */
  seededFiles: string[];
  /** code-server's own stdout and stderr so far. */
  serverOutput(): string;
  /** Every extension-host log file (the host's own and each extension's output channel). */
  extensionHostLog(): string;
  /** Only this extension's LogOutputChannel ("Coder Workspace Status"). */
  extensionLog(): string;
  /** How many times `text` (literal) appears in this extension's log. */
  extensionLogCount(text: string): number;
  /** Stops code-server and its children and removes the temp folders. Idempotent. */
  stop(): Promise<void>;
}

const run = promisify(execFile);

/** The extension-host log files of every server session under `logsDir`, oldest first. */
export function extensionHostLogFiles(logsDir: string): string[] {
  if (!existsSync(logsDir)) return [];
  return readdirSync(logsDir)
    .sort()
    .flatMap((session) => {
      const sessionDir = join(logsDir, session);
      if (!statSync(sessionDir).isDirectory()) return [];
      return readdirSync(sessionDir)
        .filter((n) => n.startsWith('exthost'))
        .flatMap((n) => filesUnder(join(sessionDir, n)));
    })
    .filter((p) => p.endsWith('.log'));
}

export function readLogs(files: string[]): string {
  return files.map((f) => `==> ${f} <==\n${readFileSync(f, 'utf8')}`).join('\n');
}

export async function startCodeServer(options: CodeServerOptions = {}): Promise<CodeServer> {
  if (!existsSync(codeServerBin)) {
    throw new Error(`code-server is not installed at ${codeServerBin}: run \`node test/e2e/scripts/setup.mjs\``);
  }
  const vsix = options.vsix ?? defaultVsix;
  if (!existsSync(vsix)) throw new Error(`no VSIX at ${vsix}: run \`npm run package\` first`);

  const base = trackDir(mkdtempSync(join(tmpdir(), 'coder-status-e2e-')));
  const userDataDir = join(base, 'user-data');
  const extensionsDir = join(base, 'extensions');
  const home = join(base, 'home');
  const folder = options.folder ?? join(base, 'workspace');
  const configFile = join(base, 'code-server.yaml');
  for (const d of [join(userDataDir, 'User'), extensionsDir, home, folder]) mkdirSync(d, { recursive: true });
  writeFileSync(configFile, 'auth: none\n');
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...baseSettings, ...options.settings }, null, 2));
  const seededFiles = Object.entries(options.userDataFiles ?? {}).map(([rel, content]) => {
    const file = join(userDataDir, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content, { mode: 0o600 });
    return file;
  });

  // A fresh HOME hides the machine's `coder` CLI login and code-server's own config; the
  // machine's CODER_* variables are dropped so that only what a test passes is seen.
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('CODER_') || k.startsWith('VSCODE_')) delete env[k];
  Object.assign(env, { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share') });
  Object.assign(env, options.env);
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];

  const common = ['--config', configFile, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const installed = await run(codeServerBin, [...common, '--install-extension', vsix], { env, timeout: timeoutMs });
  if (!existsSync(join(extensionsDir, `${extensionId}-${manifest.version}`))) {
    throw new Error(`installing ${vsix} did not produce ${extensionId}-${manifest.version}:\n${installed.stdout}${installed.stderr}`);
  }

  const outputFile = join(base, 'code-server.out');
  const output = createWriteStream(outputFile);
  let outputText = '';
  const child = spawnGroup(
    codeServerBin,
    [
      ...common,
      '--auth',
      'none',
      '--bind-addr',
      '127.0.0.1:0',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      ...(options.logLevel ? ['--log', options.logLevel] : []),
      folder,
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await stopGroup(child);
    output.end();
    removeDir(base);
  };

  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => fail(new Error(`code-server did not listen within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString();
      outputText += text;
      output.write(text);
      const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(outputText);
      if (m?.[1]) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    };
    const fail = (err: Error): void => {
      clearTimeout(timer);
      reject(new Error(`${err.message}\n--- code-server output ---\n${outputText}`));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => fail(new Error(`code-server exited early (code ${code}, signal ${signal})`)));
    child.once('error', fail);
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });

  const logsDir = join(userDataDir, 'logs');
  const extensionLog = () => readLogs(extensionHostLogFiles(logsDir).filter((f) => f.includes(`/${extensionId}/`)));
  return {
    url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`,
    port,
    folder,
    userDataDir,
    extensionsDir,
    home,
    logsDir,
    seededFiles,
    serverOutput: () => outputText,
    extensionHostLog: () => readLogs(extensionHostLogFiles(logsDir)),
    extensionLog,
    extensionLogCount: (text) => extensionLog().split(text).length - 1,
    stop,
  };
}
