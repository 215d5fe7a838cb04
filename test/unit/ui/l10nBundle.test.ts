// Every string the code passes to `l10n.t` must be in l10n/bundle.l10n.json (regenerated with
// `npm run l10n`): a translation is looked up by that string, so one missing from the bundle
// can never be translated. The calls are found with the TypeScript parser, not a regex, and a
// call whose message is not a literal fails too (no tool can extract it).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = join(__dirname, '..', '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

interface Use {
  where: string;
  /** The message, or undefined when it is not a string literal. */
  message: string | undefined;
}

/** `l10n.t(...)` and `vscode.l10n.t(...)` calls of a file. */
export function l10nUses(file: string, text: string): Use[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const uses: Use[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 't') {
      const target = node.expression.expression;
      const isL10n =
        (ts.isIdentifier(target) && target.text === 'l10n') || (ts.isPropertyAccessExpression(target) && target.name.text === 'l10n');
      if (isL10n) {
        const arg = node.arguments[0];
        const line = sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
        uses.push({
          where: `${file}:${line}`,
          message: arg && (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg)) ? arg.text : undefined,
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return uses;
}

describe('l10n bundle', () => {
  const bundle = JSON.parse(readFileSync(join(root, 'l10n', 'bundle.l10n.json'), 'utf8')) as Record<string, string>;
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { l10n?: string };
  const uses = sourceFiles(join(root, 'src')).flatMap((f) => l10nUses(relative(root, f), readFileSync(f, 'utf8')));

  it('package.json points VS Code at the bundle folder', () => {
    assert.equal(manifest.l10n, './l10n');
  });

  it('finds the calls, in both spellings, and flags a message that is not a literal', () => {
    const sample = "vscode.l10n.t('A {0}', x);\nl10n.t(`B`);\nl10n.t(message);\nother.t('not ours');";
    assert.deepEqual(
      l10nUses('s.ts', sample).map((u) => u.message),
      ['A {0}', 'B', undefined],
    );
    assert.ok(uses.length > 100, `found the calls in src (${uses.length})`);
  });

  it('every message used with l10n.t is a literal that is in bundle.l10n.json (run `npm run l10n`)', () => {
    const notLiteral = uses.filter((u) => u.message === undefined).map((u) => u.where);
    assert.deepEqual(notLiteral, [], 'messages that are not string literals');
    const missing = uses.filter((u) => u.message !== undefined && !(u.message in bundle)).map((u) => `${u.where}: ${u.message}`);
    assert.deepEqual(missing, []);
  });
});
