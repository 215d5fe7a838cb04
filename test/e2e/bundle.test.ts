// The packaged build's own files (dist/, as the package step leaves them), before code-server
// loads them: the main bundle stays within its budget, and the parts only a proxy, an extra CA
// or insecure mode needs are files of their own that load and give what network.ts takes.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';

const dist = join(process.cwd(), 'dist');
const load = createRequire(join(dist, 'extension.js'));

test('the main bundle stays under 400 kB', () => {
  const bytes = statSync(join(dist, 'extension.js')).size;
  console.log(`dist/extension.js: ${bytes} bytes`);
  assert.ok(bytes < 400_000, `${bytes} bytes`);
});

test('the proxy tunnel and undici are files of their own, loaded only on demand', () => {
  const main = readFileSync(join(dist, 'extension.js'), 'utf8');
  // Their names appear only as the files the bundle requires when it needs them.
  assert.match(main, /proxyAgent\.js/);
  assert.match(main, /undici\.js/);
  const proxy = load('./proxyAgent.js') as { HttpsProxyAgent?: unknown };
  assert.equal(typeof proxy.HttpsProxyAgent, 'function');
  const tunnel = new (proxy.HttpsProxyAgent as new (url: string) => { proxy: URL })('http://proxy.test:3128');
  assert.equal(tunnel.proxy.host, 'proxy.test:3128');
  const undici = load('./undici.js') as { fetch?: unknown; Agent?: unknown; ProxyAgent?: unknown };
  assert.deepEqual([typeof undici.fetch, typeof undici.Agent, typeof undici.ProxyAgent], ['function', 'function', 'function']);
});
