// Builds a production bundle and packages it as coder-workspace-status-<version>.vsix.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const out = `${pkg.name}-${pkg.version}.vsix`;
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });

run(process.execPath, ['scripts/build.mjs', '--production']);
run(process.execPath, [
  'node_modules/@vscode/vsce/vsce',
  'package',
  '--no-dependencies',
  '--skip-license',
  '--allow-missing-repository',
  // The README's screenshots are relative links to docs/, which the VSIX does not ship.
  '--no-rewrite-relative-links',
  '--out',
  out,
]);
const kb = (statSync(out).size / 1024).toFixed(1);
console.log(`package: ${out} (${kb} KB)`);
