// The whole test suite in one command: typecheck, build and package the VSIX, install what
// the e2e tests need (idempotent), then run unit -> integration -> e2e tests in one node:test
// run so that its closing "# pass N / # fail N" lines count everything.
//   --only unit|integration|e2e   run one layer (skips packaging and e2e setup when not needed)
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;
const layers = only ? [only] : ['unit', 'integration', 'e2e'];
// --soak: the long variants of the reliability tests (e.g. 200 restart cycles instead of 50).
if (args.includes('--soak')) process.env.SOAK = '1';

function step(title, cmd, cmdArgs) {
  console.log(`\n== ${title}`);
  execFileSync(cmd, cmdArgs, { stdio: 'inherit' });
}

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

step('typecheck', process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.', '--noEmit']);
step('lint', process.execPath, ['node_modules/eslint/bin/eslint.js', 'src', 'test']);
step('format', process.execPath, ['node_modules/prettier/bin/prettier.cjs', '--check', '.']);
if (layers.includes('e2e')) {
  step('package', process.execPath, ['scripts/package.mjs']);
  step('e2e setup', process.execPath, ['test/e2e/scripts/setup.mjs']);
}

const files = layers.flatMap((l) => testFiles(join('test', l)));
console.log(`\n== node:test (${layers.join(' -> ')}, ${files.length} files)`);
const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-concurrency=1', ...files], {
  stdio: 'inherit',
});
process.exit(res.status ?? 1);
