// Installs what the e2e tests (and `npm start`) need, when it is missing:
//   - Debian packages: chromium (the browser that drives the workbench), libkrb5-dev, python3,
//     make and g++ (to build code-server's native modules) and ripgrep (its `rg` stands in for
//     the binary that code-server's install would otherwise download);
//   - code-server (VS Code in the browser, with a real Node extension host) from the npm
//     registry into <project>/.cache/code-server/.
// Idempotent: a second run only checks and returns in a few seconds.
//   node test/e2e/scripts/setup.mjs [--force]     (--force reinstalls code-server)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const CODE_SERVER_VERSION = '4.99.4';
// The @vscode/ripgrep version bundled with that code-server and the rg build it downloads.
const RIPGREP_CACHE = { pkg: '1.15.11', tag: 'v13.0.0-10' };

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const codeServerDir = join(root, '.cache', 'code-server');
const codeServerBin = join(codeServerDir, 'node_modules', '.bin', 'code-server');
const marker = join(codeServerDir, 'installed.json');

const say = (msg) => console.log(`e2e setup: ${msg}`);

function onPath(cmd) {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, cmd)));
}

function debInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

/** Debian packages still missing; tools found on PATH (e.g. another python3) count as present. */
function missingDebianPackages(needBuildTools) {
  const wanted = [
    { pkg: 'chromium', ok: () => existsSync('/usr/bin/chromium') },
    { pkg: 'ripgrep', ok: () => onPath('rg') },
  ];
  if (needBuildTools) {
    wanted.push(
      { pkg: 'libkrb5-dev', ok: () => debInstalled('libkrb5-dev') || existsSync('/usr/include/gssapi/gssapi.h') },
      { pkg: 'python3', ok: () => onPath('python3') },
      { pkg: 'make', ok: () => onPath('make') },
      { pkg: 'g++', ok: () => onPath('g++') },
    );
  }
  return wanted.filter((w) => !w.ok()).map((w) => w.pkg);
}

function installDebianPackages(pkgs) {
  if (pkgs.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) {
    console.error(
      `e2e setup: missing system packages: ${pkgs.join(' ')}\n` +
        `  install them first, e.g.: sudo apt-get install -y ${pkgs.join(' ')}\n` +
        '  (on a non-Debian system: a Chromium at /usr/bin/chromium, ripgrep, Kerberos headers,\n' +
        '   python3, make and a C++ compiler)',
    );
    process.exit(1);
  }
  say(`installing Debian packages with apt-get: ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
}

function readMarker() {
  try {
    return JSON.parse(readFileSync(marker, 'utf8'));
  } catch {
    return undefined;
  }
}

function codeServerVersion() {
  const r = spawnSync(codeServerBin, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return undefined;
  // The first run also logs that it wrote a default config file; the version line is the one
  // that starts with a version.
  return /^(\d+\.\d+\.\d+)\s/m.exec(r.stdout)?.[1];
}

function codeServerReady() {
  const m = readMarker();
  return (
    m?.version === CODE_SERVER_VERSION &&
    m?.nodeAbi === process.versions.modules &&
    existsSync(codeServerBin) &&
    codeServerVersion() === CODE_SERVER_VERSION
  );
}

/**
 * @vscode/ripgrep's postinstall downloads rg from GitHub unless it finds this archive in its
 * cache folder under the temp dir; an archive holding Debian's rg satisfies it offline.
 */
function seedRipgrepCache() {
  const cacheDir = join(tmpdir(), `vscode-ripgrep-cache-${RIPGREP_CACHE.pkg}`);
  const target = process.arch === 'arm64' ? 'aarch64-unknown-linux-musl' : 'x86_64-unknown-linux-musl';
  const archive = join(cacheDir, `ripgrep-${RIPGREP_CACHE.tag}-${target}.tar.gz`);
  if (existsSync(archive)) return;
  const rg = execFileSync('sh', ['-c', 'command -v rg'], { encoding: 'utf8' }).trim();
  mkdirSync(cacheDir, { recursive: true });
  const stage = mkdtempSync(join(tmpdir(), 'rg-stage-'));
  try {
    execFileSync('cp', [rg, join(stage, 'rg')]);
    execFileSync('tar', ['-czf', archive, '-C', stage, 'rg']);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  say(`seeded ${archive} with ${rg}`);
}

function installCodeServer() {
  say(`installing code-server@${CODE_SERVER_VERSION} into ${codeServerDir} (about 300 MB, a few minutes)`);
  rmSync(codeServerDir, { recursive: true, force: true });
  mkdirSync(codeServerDir, { recursive: true });
  // A package.json of its own keeps this install apart from the project's dependencies, and
  // its allowScripts approves the install scripts that code-server needs (its postinstall
  // builds VS Code's native modules; argon2 builds its binding), so npm 11 runs them without a
  // warning. Older npm versions ignore the field and run them anyway.
  writeFileSync(
    join(codeServerDir, 'package.json'),
    JSON.stringify(
      {
        name: 'coder-workspace-status-e2e-code-server',
        private: true,
        description: 'code-server for the e2e tests; installed by test/e2e/scripts/setup.mjs',
        allowScripts: { 'code-server': true, argon2: true },
      },
      null,
      2,
    ) + '\n',
  );
  seedRipgrepCache();
  const env = {
    ...process.env,
    // code-server's postinstall refuses to run as root without this; npm 11 warns that it no
    // longer knows the option, which is expected.
    npm_config_unsafe_perm: 'true',
    npm_config_yes: 'true', // code-server's postinstall calls `npx node-gyp`
    npm_config_ignore_scripts: 'false',
    npm_config_strict_allow_scripts: 'false', // the nested install inside code-server has no allowScripts
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  const r = spawnSync('npm', ['install', '--no-save', '--no-package-lock', '--omit=dev', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: codeServerDir,
    stdio: 'inherit',
    env,
  });
  if (r.status !== 0) {
    console.error(`e2e setup: npm install of code-server failed (exit ${r.status}); see the output above`);
    process.exit(1);
  }
  verifyInstall();
  writeFileSync(
    marker,
    JSON.stringify({ version: CODE_SERVER_VERSION, nodeAbi: process.versions.modules, installedAt: new Date().toISOString() }, null, 2) +
      '\n',
  );
}

/** The install scripts really ran: VS Code's own modules, native builds and rg are there. */
function verifyInstall() {
  const vscodeDir = join(codeServerDir, 'node_modules', 'code-server', 'lib', 'vscode');
  const required = [
    join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg'),
    join(vscodeDir, 'node_modules', 'node-pty', 'build', 'Release', 'pty.node'),
    join(vscodeDir, 'node_modules', '@vscode', 'spdlog', 'build', 'Release', 'spdlog.node'),
  ];
  const missing = required.filter((p) => !existsSync(p));
  if (missing.length > 0) {
    console.error('e2e setup: code-server installed but its install scripts did not finish; missing:\n  ' + missing.join('\n  '));
    process.exit(1);
  }
  const v = codeServerVersion();
  if (v !== CODE_SERVER_VERSION) {
    console.error(`e2e setup: ${codeServerBin} --version gave ${v ?? 'an error'}, expected ${CODE_SERVER_VERSION}`);
    process.exit(1);
  }
}

const started = Date.now();
const force = process.argv.includes('--force');
const needCodeServer = force || !codeServerReady();
installDebianPackages(missingDebianPackages(needCodeServer));
if (needCodeServer) installCodeServer();
say(
  `ready in ${((Date.now() - started) / 1000).toFixed(1)} s: code-server ${CODE_SERVER_VERSION} at ${codeServerBin}, ` +
    'chromium at /usr/bin/chromium',
);
