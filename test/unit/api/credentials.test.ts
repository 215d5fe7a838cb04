import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliConfigDir, discoverCredentials, findCredentials, normalizeDeploymentUrl } from '../../../src/api/credentials';
import { ManualClock } from '../../doubles/manualClock';
import { MemoryLogger } from '../../doubles/memoryLogger';
import { RateLimitedLog } from '../../../src/sync/rateLimitedLog';

function files(map: Record<string, string>) {
  return (p: string) => map[p];
}

test('normalizeDeploymentUrl: adds https, strips trailing slash and /api/v2, keeps a path prefix and port', () => {
  const ok = (input: string) => {
    const r = normalizeDeploymentUrl(input);
    assert.ok(r.ok, `${input}: ${r.ok ? '' : r.error}`);
    return r.url;
  };
  assert.equal(ok('coder.example.com'), 'https://coder.example.com');
  assert.equal(ok('  https://coder.example.com/  '), 'https://coder.example.com');
  assert.equal(ok('https://coder.example.com/api/v2/'), 'https://coder.example.com');
  assert.equal(ok('http://localhost:3000/coder/api/v2'), 'http://localhost:3000/coder');
  assert.equal(ok('localhost:3000'), 'https://localhost:3000');
  assert.equal(ok('HTTPS://Coder.Example.com'), 'https://coder.example.com');
});

test('normalizeDeploymentUrl: rejects other schemes, empty input and credentials in the URL', () => {
  for (const bad of [
    '',
    '   ',
    'ftp://coder.example.com',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'https://user:pw@coder.example.com',
    'http://',
  ]) {
    const r = normalizeDeploymentUrl(bad);
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.ok(r.error.length > 10, 'a clear error');
  }
});

test('cliConfigDir follows the coder CLI per platform; CODER_CONFIG_DIR wins', () => {
  assert.equal(cliConfigDir({ env: {}, homedir: '/home/a', platform: 'linux' }), '/home/a/.config/coderv2');
  assert.equal(cliConfigDir({ env: {}, homedir: '/Users/a', platform: 'darwin' }), '/Users/a/Library/Application Support/coderv2');
  assert.equal(cliConfigDir({ env: { CODER_CONFIG_DIR: '/tmp/c' }, homedir: '/home/a', platform: 'darwin' }), '/tmp/c');
  assert.equal(cliConfigDir({ env: { XDG_CONFIG_HOME: '/x' }, homedir: '/home/a', platform: 'linux' }), '/x/coderv2');
});

test('environment first, then the CLI login, values trimmed, each with its source', async () => {
  const c = await findCredentials({
    env: { CODER_URL: 'https://env.example.com/', CODER_SESSION_TOKEN: ' envtoken \n' },
    readFile: files({ '/home/a/.config/coderv2/url': 'https://cli.example.com\n', '/home/a/.config/coderv2/session': 'clitoken\n' }),
    homedir: '/home/a',
    platform: 'linux',
  });
  assert.deepEqual(c, [
    { url: 'https://env.example.com', token: 'envtoken', source: 'env', origin: 'CODER_URL + CODER_SESSION_TOKEN' },
    { url: 'https://cli.example.com', token: 'clitoken', source: 'cli-config', origin: '/home/a/.config/coderv2' },
  ]);
});

test('missing or unreadable files give no candidate; a half environment borrows the other half', async () => {
  const none = await findCredentials({
    env: {},
    readFile: () => {
      throw new Error('EACCES');
    },
    homedir: '/h',
    platform: 'linux',
  });
  assert.deepEqual(none, []);
  const half = await findCredentials({
    env: { CODER_URL: 'other.example.com', CODER_CONFIG_DIR: '/cfg' },
    readFile: files({ '/cfg/url': 'https://cli.example.com', '/cfg/session': 'tok' }),
    homedir: '/h',
    platform: 'linux',
  });
  assert.deepEqual(
    half.map((x) => [x.url, x.token, x.source]),
    [
      ['https://other.example.com', 'tok', 'env'],
      ['https://cli.example.com', 'tok', 'cli-config'],
    ],
  );
  const onlyUrl = await findCredentials({
    env: { CODER_URL: 'x.example.com' },
    readFile: () => undefined,
    homedir: '/h',
    platform: 'linux',
  });
  assert.deepEqual(onlyUrl, []);
});

test('an unusable URL in the environment is skipped, the CLI login still counts', async () => {
  const c = await findCredentials({
    env: { CODER_URL: 'ftp://bad', CODER_SESSION_TOKEN: 't', CODER_CONFIG_DIR: '/cfg' },
    readFile: async (p) => (({ '/cfg/url': 'cli.example.com', '/cfg/session': 's' }) as Record<string, string>)[p],
    homedir: '/h',
    platform: 'darwin',
  });
  assert.deepEqual(
    c.map((x) => x.source),
    ['cli-config'],
  );
});

test('a login file that exists but cannot be read is reported, and discovery goes on with the rest', async () => {
  const errors: string[] = [];
  const found = await findCredentials({
    env: { CODER_URL: 'env.example.com', CODER_SESSION_TOKEN: 'envtoken', CODER_CONFIG_DIR: '/cfg' },
    readFile: (p) => {
      if (p === '/cfg/session') throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      return p === '/cfg/url' ? 'https://cli.example.com' : undefined;
    },
    homedir: '/h',
    platform: 'linux',
    onReadError: (file, e) => errors.push(`${file}: ${e instanceof Error ? e.message : String(e)}`),
  });
  assert.deepEqual(errors, ['/cfg/session: EACCES: permission denied']);
  assert.deepEqual(
    found.map((c) => c.url),
    ['https://env.example.com'],
  );
});

test('discovery that fails is logged once per kind through the rate-limited log and offers no login', async () => {
  const clock = new ManualClock();
  const log = new MemoryLogger();
  const limited = new RateLimitedLog(log, clock);
  const failing = () => Promise.reject(new Error('config dir is a socket'));
  for (let i = 0; i < 3; i++) assert.deepEqual(await discoverCredentials(failing, limited), []);
  assert.deepEqual(log.lines, ['warn looking for existing Coder logins failed: config dir is a socket; none offered']);
  const ok = await discoverCredentials(() => Promise.resolve([{ url: 'https://a', token: 't', source: 'env', origin: 'env' }]), limited);
  assert.equal(ok.length, 1);
});
