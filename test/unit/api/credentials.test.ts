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

/** A read-only file tree: files by path, folders derived from them. */
function tree(map: Record<string, string>) {
  return {
    readFile: (p: string) => map[p],
    listDir: (d: string) => {
      const names = new Set<string>();
      for (const p of Object.keys(map)) if (p.startsWith(`${d}/`)) names.add(p.slice(d.length + 1).split('/')[0] ?? '');
      return names.size ? [...names] : undefined;
    },
  };
}

const REMOTE = '/data/User/globalStorage/coder.coder-remote';

test('Coder Remote: one folder per deployment host with url and session', async () => {
  const c = await findCredentials({
    env: {},
    ...tree({
      [`${REMOTE}/coder.example.com/url`]: 'https://coder.example.com:8443\n',
      [`${REMOTE}/coder.example.com/session`]: 'remotetoken\n',
      [`${REMOTE}/xn--18j4d/url`]: 'https://xn--18j4d',
      [`${REMOTE}/xn--18j4d/session`]: 'puny',
    }),
    homedir: '/h',
    platform: 'linux',
    coderRemoteDir: REMOTE,
  });
  assert.deepEqual(c, [
    { url: 'https://coder.example.com:8443', token: 'remotetoken', source: 'coder-remote', origin: `${REMOTE}/coder.example.com` },
    { url: 'https://xn--18j4d', token: 'puny', source: 'coder-remote', origin: `${REMOTE}/xn--18j4d` },
  ]);
});

test('Coder Remote: older releases name the token file session_token; session wins when both are there', async () => {
  const c = await findCredentials({
    env: {},
    ...tree({
      [`${REMOTE}/old.example.com/url`]: 'https://old.example.com',
      [`${REMOTE}/old.example.com/session_token`]: 'oldtoken',
      [`${REMOTE}/both.example.com/url`]: 'https://both.example.com',
      [`${REMOTE}/both.example.com/session`]: 'new',
      [`${REMOTE}/both.example.com/session_token`]: 'stale',
    }),
    homedir: '/h',
    platform: 'linux',
    coderRemoteDir: REMOTE,
  });
  assert.deepEqual(
    c.map((x) => [x.url, x.token]),
    [
      ['https://both.example.com', 'new'],
      ['https://old.example.com', 'oldtoken'],
    ],
  );
});

test('Coder Remote: the oldest releases keep url and session_token at the top of the folder', async () => {
  const c = await findCredentials({
    env: {},
    ...tree({ [`${REMOTE}/url`]: 'https://oldest.example.com/', [`${REMOTE}/session_token`]: 'oldest' }),
    homedir: '/h',
    platform: 'linux',
    coderRemoteDir: REMOTE,
  });
  assert.deepEqual(c, [{ url: 'https://oldest.example.com', token: 'oldest', source: 'coder-remote', origin: REMOTE }]);
});

test('Coder Remote: after the environment and the CLI; a folder without a token, an unusable URL or other files give nothing', async () => {
  const c = await findCredentials({
    env: { CODER_URL: 'env.example.com', CODER_SESSION_TOKEN: 'envtok' },
    ...tree({
      '/h/.config/coderv2/url': 'cli.example.com',
      '/h/.config/coderv2/session': 'clitok',
      [`${REMOTE}/half.example.com/url`]: 'https://half.example.com',
      [`${REMOTE}/bad/url`]: 'ftp://bad',
      [`${REMOTE}/bad/session`]: 'x',
      [`${REMOTE}/ok.example.com/url`]: 'ok.example.com',
      [`${REMOTE}/ok.example.com/session`]: 'oktok',
      [`${REMOTE}/.DS_Store`]: '',
    }),
    homedir: '/h',
    platform: 'linux',
    coderRemoteDir: REMOTE,
  });
  assert.deepEqual(
    c.map((x) => [x.source, x.url]),
    [
      ['env', 'https://env.example.com'],
      ['cli-config', 'https://cli.example.com'],
      ['coder-remote', 'https://ok.example.com'],
    ],
  );
});

test('Coder Remote: a missing or unreadable folder is not an error', async () => {
  for (const listDir of [
    () => undefined,
    () => {
      throw new Error('EACCES');
    },
    async () => Promise.reject(new Error('ENOENT')),
  ]) {
    const c = await findCredentials({
      env: {},
      readFile: () => {
        throw new Error('EACCES');
      },
      listDir,
      homedir: '/h',
      platform: 'linux',
      coderRemoteDir: REMOTE,
    });
    assert.deepEqual(c, []);
  }
  // Not asked for: not looked at.
  let listed = 0;
  await findCredentials({
    env: {},
    readFile: () => undefined,
    listDir: () => {
      listed++;
      return [];
    },
    homedir: '/h',
    platform: 'linux',
  });
  assert.equal(listed, 0);
});
