// src/ui takes its time from the injected clock (ctx.clock), like the rest of the extension:
// no Date.now() and no global setTimeout/setInterval, so that what it shows and waits for
// follows the same clock as the model and can be driven by a manual one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const uiDir = join(root, 'src', 'ui');

const RULES: { what: string; re: RegExp }[] = [
  { what: 'Date.now()', re: /\bDate\s*\.\s*now\s*\(/ },
  // A bare call, not a method of the injected clock (`ctx.clock.setTimeout(` is fine).
  { what: 'global setTimeout/setInterval', re: /(?<![\w$.])(setTimeout|setInterval)\s*\(/ },
  { what: 'global setTimeout/setInterval', re: /\b(globalThis|global|window)\s*\.\s*(setTimeout|setInterval)\b/ },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

/** Comments say why, and may name what they avoid: only code counts. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function violations(file: string, text: string): string[] {
  const lines = withoutComments(text).split('\n');
  return lines.flatMap((line, i) => RULES.filter((r) => r.re.test(line)).map((r) => `${file}:${i + 1}: ${r.what}: ${line.trim()}`));
}

describe('src/ui uses the injected clock', () => {
  it('the scan finds what it looks for (and lets the clock and comments through)', () => {
    const sample = [
      'const t = Date.now();',
      'this.pending = setTimeout(() => {}, 10);',
      'const h = setInterval(f, 5);',
      'globalThis.setTimeout(f, 1);',
      'this.ctx.clock.setTimeout(() => {}, 10);',
      'const n = ctx.clock.now();',
      '// Date.now() would skip the manual clock',
      'const at = Date.parse(iso);',
    ].join('\n');
    assert.deepEqual(
      violations('sample.ts', sample).map((v) => v.split(':')[1]),
      ['1', '2', '3', '4'],
    );
  });

  it('no file of src/ui reads Date.now() or calls the global setTimeout/setInterval', () => {
    const files = sourceFiles(uiDir);
    assert.ok(files.length > 10, `found the sources of src/ui (${files.length})`);
    const found = files.flatMap((f) => violations(relative(root, f), readFileSync(f, 'utf8')));
    assert.deepEqual(found, []);
  });
});
