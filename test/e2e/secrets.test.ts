// The secrets sweep itself: it must find a token in every form and place it checks, and only there.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileSources, secretsFromEnv, sweep } from './secrets';

const TOKEN = 'Abc123XyZ-7fGhIjKlMnOpQrStUv';

function tree(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sweep-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'User', 'globalStorage'), { recursive: true });
  writeFileSync(join(dir, 'User', 'settings.json'), '{"coderStatus.url": "https://coder.example.com"}');
  writeFileSync(join(dir, 'exthost.log'), 'GET /api/v2/users/me 200\n');
  return dir;
}

test('a clean folder and clean page texts have no hit', (t) => {
  const dir = tree(t);
  const r = sweep([...fileSources([dir]), { where: 'notification', content: 'Signed in to coder.example.com' }], [TOKEN]);
  assert.deepEqual(r.hits, []);
  assert.equal(r.sources, 3);
});

test('the token is found as is, URL-encoded and base64, in text and in binary files, deep down', (t) => {
  const dir = tree(t);
  const deep = join(dir, 'User', 'globalStorage', 'state.vscdb');
  writeFileSync(deep, Buffer.concat([Buffer.from([0, 1, 2, 255]), Buffer.from(TOKEN), Buffer.from([0])]));
  const basic = Buffer.from(TOKEN).toString('base64');
  const r = sweep(
    [
      ...fileSources([dir]),
      { where: 'frame webview', content: `<pre>Authorization: Basic ${basic}</pre>` },
      { where: 'notification', content: `failed: ${encodeURIComponent(`${TOKEN}/x`)}` },
      { where: 'quick input', content: 'nothing here' },
    ],
    [TOKEN],
  );
  assert.deepEqual(r.hits, [deep, 'frame webview', 'notification']);
});

test('a missing folder is no source, and a token too short to sweep for is refused', () => {
  assert.deepEqual(fileSources([join(tmpdir(), 'no-such-folder-for-the-sweep')]), []);
  assert.throws(() => sweep([], ['abc']), /too short/);
});

test('the tokens of a run come from CODER_SESSION_TOKEN and the CLI login session file', (t) => {
  const dir = tree(t);
  writeFileSync(join(dir, 'session'), `${TOKEN}-cli\n`);
  assert.deepEqual(secretsFromEnv({ CODER_SESSION_TOKEN: TOKEN, CODER_CONFIG_DIR: dir }), [TOKEN, `${TOKEN}-cli`]);
  assert.deepEqual(secretsFromEnv({ CODER_URL: 'https://x' }), []);
});
