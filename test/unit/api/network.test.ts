import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as https from 'node:https';
import { MemoryLogger } from '../../doubles/memoryLogger';
import { HeaderCommandError, isHeaderName, parseHeaderOutput, runHeaderCommand, type ExecFn } from '../../../src/api/headerCommand';
import { createNetwork, decideProxy, describeProxy, loadCaFile, matchNoProxy, tlsOptions } from '../../../src/api/network';

const SECRET = 'Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXZhbHVl';

describe('parseHeaderOutput', () => {
  it('reads Name=Value lines, splits at the first =, ignores blank lines and CRLF', () => {
    const out = parseHeaderOutput(`X-Auth=${SECRET}\r\n\r\n  \nCF-Access-Token=a=b==\nX-Empty=\n`);
    assert.deepEqual(out, { 'X-Auth': SECRET, 'CF-Access-Token': 'a=b==', 'X-Empty': '' });
  });

  it('trims the value (optional whitespace) and joins repeated names case-insensitively', () => {
    assert.deepEqual(parseHeaderOutput('X-A= one \nx-a=two\n'), { 'X-A': 'one, two' });
  });

  it('accepts every RFC 7230 token character in names and rejects the others', () => {
    assert.ok(isHeaderName("!#$%&'*+-.^_`|~09AZaz"));
    for (const bad of ['', 'X Auth', 'X-Auth ', 'X:Auth', 'X/Auth', 'X(Auth)', 'Ä', 'X"', 'X@Y']) {
      assert.equal(isHeaderName(bad), false, JSON.stringify(bad));
    }
  });

  it('reports bad lines by number without echoing their content', () => {
    const cases: Array<[string, RegExp]> = [
      [`X-Ok=1\n${SECRET}\n`, /line 2: expected Name=Value/],
      [`bad name=${SECRET}`, /line 1: the header name is not a valid HTTP token/],
      [`=${SECRET}`, /line 1: the header name/],
      [`X-Ok=1\nX-Nul=${SECRET}\u0000`, /line 2: the value has characters/],
      [`X-Cr=${SECRET}\rinjected: yes`, /line 1: the value has characters/],
      [`X-Wide=${SECRET}\u2028`, /line 1: the value has characters/],
    ];
    for (const [input, message] of cases) {
      assert.throws(
        () => parseHeaderOutput(input),
        (e: unknown) => {
          assert.ok(e instanceof HeaderCommandError);
          assert.match(e.message, message);
          assert.ok(!e.message.includes('eyJ'), e.message);
          assert.ok(!e.message.includes('bad name'), e.message);
          return true;
        },
      );
    }
  });

  it('allows a tab and Latin-1 characters in values', () => {
    assert.deepEqual(parseHeaderOutput('X-A=a\tb\u00e9'), { 'X-A': 'a\tb\u00e9' });
  });
});

function fakeExec(result: { stdout?: string; code?: number | null; timedOut?: boolean }, calls: unknown[] = []): ExecFn {
  return async (file, args, opts) => {
    calls.push({ file, args, env: opts.env, timeoutMs: opts.timeoutMs });
    return { stdout: result.stdout ?? '', code: result.code === undefined ? 0 : result.code, timedOut: result.timedOut ?? false };
  };
}

describe('runHeaderCommand', () => {
  it('runs through sh -c with CODER_URL set, like the coder CLI', async () => {
    const calls: any[] = [];
    const h = await runHeaderCommand({
      command: 'get-token --for "$CODER_URL"',
      url: 'https://coder.example.com',
      env: { PATH: '/bin', CODER_URL: 'stale' },
      platform: 'linux',
      exec: fakeExec({ stdout: 'X-Token=abc\n' }, calls),
    });
    assert.deepEqual(h, { 'X-Token': 'abc' });
    assert.equal(calls[0].file, 'sh');
    assert.deepEqual(calls[0].args, ['-c', 'get-token --for "$CODER_URL"']);
    assert.equal(calls[0].env.CODER_URL, 'https://coder.example.com');
    assert.equal(calls[0].env.PATH, '/bin');
    assert.equal(calls[0].timeoutMs, 10_000);
  });

  it('uses cmd.exe /c on Windows', async () => {
    const calls: any[] = [];
    await runHeaderCommand({ command: 'x', url: 'u', env: {}, platform: 'win32', exec: fakeExec({}, calls) });
    assert.equal(calls[0].file, 'cmd.exe');
    assert.deepEqual(calls[0].args, ['/c', 'x']);
  });

  it('fails clearly on a timeout or a non-zero exit, without its output', async () => {
    await assert.rejects(
      runHeaderCommand({
        command: 'x',
        url: 'u',
        env: {},
        platform: 'linux',
        timeoutMs: 2000,
        exec: fakeExec({ timedOut: true, code: null }),
      }),
      /did not finish within 2 s/,
    );
    await assert.rejects(
      runHeaderCommand({ command: 'x', url: 'u', env: {}, platform: 'linux', exec: fakeExec({ code: 3, stdout: `X-A=${SECRET}` }) }),
      (e: Error) => /exit code 3/.test(e.message) && !e.message.includes('eyJ'),
    );
  });

  it('really runs a shell command with the real exec', { skip: process.platform === 'win32' }, async () => {
    const h = await runHeaderCommand({
      command: 'printf "X-Url=%s\\n\\nX-Two=2\\n" "$CODER_URL"',
      url: 'https://c.example',
      env: { PATH: process.env.PATH },
      platform: process.platform,
    });
    assert.deepEqual(h, { 'X-Url': 'https://c.example', 'X-Two': '2' });
    await assert.rejects(
      runHeaderCommand({ command: 'sleep 5', url: 'u', env: { PATH: process.env.PATH }, platform: process.platform, timeoutMs: 200 }),
      /did not finish/,
    );
    await assert.rejects(
      runHeaderCommand({ command: 'exit 7', url: 'u', env: { PATH: process.env.PATH }, platform: process.platform }),
      /exit code 7/,
    );
  });
});

describe('matchNoProxy (Go rules)', () => {
  const m = (url: string, list: string) => matchNoProxy(new URL(url), list);

  it('matches a domain and its subdomains, not lookalikes', () => {
    assert.equal(m('https://example.com', 'example.com'), 'example.com');
    assert.equal(m('https://a.b.example.com', 'example.com'), 'example.com');
    assert.equal(m('https://badexample.com', 'example.com'), undefined);
    assert.equal(m('https://EXAMPLE.com.', ' Example.COM '), 'example.com');
  });

  it('matches only subdomains for .domain and *.domain', () => {
    assert.equal(m('https://x.y.com', '.y.com'), '.y.com');
    assert.equal(m('https://y.com', '.y.com'), undefined);
    assert.equal(m('https://x.y.com', '*.y.com'), '*.y.com');
    assert.equal(m('https://y.com', '*.y.com'), undefined);
  });

  it('honours ports, with the scheme default when the URL has none', () => {
    assert.equal(m('https://c.corp:8443', 'c.corp:8443'), 'c.corp:8443');
    assert.equal(m('https://c.corp', 'c.corp:8443'), undefined);
    assert.equal(m('https://c.corp', 'c.corp:443'), 'c.corp:443');
    assert.equal(m('wss://c.corp', 'c.corp:443'), 'c.corp:443');
    assert.equal(m('http://c.corp', 'c.corp:443'), undefined);
  });

  it('matches IPs and CIDR ranges, IPv4 and IPv6', () => {
    assert.equal(m('https://10.1.2.3', '10.0.0.0/8'), '10.0.0.0/8');
    assert.equal(m('https://11.1.2.3', '10.0.0.0/8'), undefined);
    assert.equal(m('https://192.168.1.5:8080', '192.168.1.5'), '192.168.1.5');
    assert.equal(m('https://[fd00::1]', 'fd00::/8'), 'fd00::/8');
    assert.equal(m('https://[2001:db8::1]:443', '[2001:db8::1]:443'), '[2001:db8::1]:443');
    assert.equal(m('https://example.com', '10.0.0.0/8'), undefined, 'a name never matches a range');
    assert.equal(m('https://10.1.2.3', '10.0.0.0/99,10.0.0.0/x'), undefined, 'malformed ranges match nothing');
  });

  it('takes commas and spaces as separators and * as everything', () => {
    assert.equal(m('https://b.org', 'a.org, b.org c.org'), 'b.org');
    assert.equal(m('https://anything.example', 'a.org,*'), '*');
    assert.equal(m('https://a.org', ',, ,'), undefined);
  });
});

describe('decideProxy', () => {
  const env = { HTTPS_PROXY: 'http://user:pw@proxy.corp:3128', HTTP_PROXY: 'http://plain.corp:80', NO_PROXY: '.internal,10.0.0.0/8' };

  it('uses HTTPS_PROXY for https/wss and HTTP_PROXY for http/ws', () => {
    assert.deepEqual(decideProxy('https://coder.example.com', { env }), {
      kind: 'proxy',
      url: 'http://user:pw@proxy.corp:3128/',
      reason: 'HTTPS_PROXY (http://proxy.corp:3128)',
    });
    assert.equal((decideProxy('wss://coder.example.com/x', { env }) as { url: string }).url, 'http://user:pw@proxy.corp:3128/');
    assert.equal((decideProxy('ws://coder.example.com/x', { env }) as { url: string }).url, 'http://plain.corp/');
  });

  it('reads lower-case variables too, upper-case first', () => {
    assert.equal(decideProxy('https://c.io', { env: { https_proxy: 'http://low:1' } }).kind, 'proxy');
    assert.equal(
      (decideProxy('https://c.io', { env: { https_proxy: 'http://low:1', HTTPS_PROXY: 'http://up:1' } }) as { url: string }).url,
      'http://up:1/',
    );
  });

  it('prefers the http.proxy setting, and still honours NO_PROXY and http.noProxy', () => {
    assert.equal(
      decideProxy('https://c.io', { env, httpProxy: 'http://vscode:8080' }).reason,
      'the http.proxy setting (http://vscode:8080)',
    );
    assert.equal(decideProxy('https://x.internal', { env, httpProxy: 'http://vscode:8080' }).kind, 'direct');
    assert.equal(decideProxy('https://c.io', { env, httpProxy: 'http://vscode:8080', noProxy: ['c.io'] }).kind, 'direct');
  });

  it('goes direct for NO_PROXY hits and loopback addresses, saying why', () => {
    assert.deepEqual(decideProxy('https://coder.internal', { env }), {
      kind: 'direct',
      reason: 'NO_PROXY entry ".internal" matches coder.internal',
    });
    assert.equal(decideProxy('https://10.9.8.7', { env }).kind, 'direct');
    for (const local of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000', 'https://app.localhost']) {
      assert.equal(decideProxy(local, { env }).kind, 'direct', local);
    }
    assert.equal(decideProxy('https://c.io', { env: {} }).kind, 'direct');
  });

  it('adds http:// to a bare host:port, rejects other schemes and garbage', () => {
    assert.equal((decideProxy('https://c.io', { env: { HTTPS_PROXY: 'proxy:3128' } }) as { url: string }).url, 'http://proxy:3128/');
    assert.equal(decideProxy('https://c.io', { env: { HTTPS_PROXY: 'https://tls-proxy:443' } }).kind, 'proxy');
    const socks = decideProxy('https://c.io', { env: { HTTPS_PROXY: 'socks5://s:1080' } });
    assert.equal(socks.kind, 'invalid');
    assert.match(socks.reason, /socks5:.*only http: and https:/);
    assert.equal(decideProxy('https://c.io', { env: { HTTPS_PROXY: 'http://[bad' } }).kind, 'invalid');
  });

  it('never puts proxy credentials in a reason', () => {
    const d = decideProxy('https://c.io', { env: { HTTPS_PROXY: 'http://bob:hunter2@p:1' } });
    assert.ok(!d.reason.includes('hunter2') && !d.reason.includes('bob'));
    assert.equal(describeProxy('http://bob:hunter2@p:1/'), 'http://p:1');
  });
});

describe('TLS options', () => {
  const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

  it('adds the CA file to the public roots, and insecure turns verification off', () => {
    assert.deepEqual(tlsOptions(undefined, false, ['root']), { rejectUnauthorized: true });
    assert.deepEqual(tlsOptions(PEM, false, ['root']), { ca: ['root', PEM], rejectUnauthorized: true });
    assert.deepEqual(tlsOptions(undefined, true, ['root']), { rejectUnauthorized: false });
  });

  it('loads a CA file, expands ~, and explains unreadable or non-PEM files', async () => {
    const files: Record<string, string> = { '/home/u/ca.pem': PEM, '/bad.pem': 'not a cert' };
    const read = async (p: string) => {
      const t = files[p];
      if (t === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      return t;
    };
    assert.equal(await loadCaFile('~/ca.pem', read, '/home/u'), PEM);
    await assert.rejects(loadCaFile('/missing.pem', read, '/'), /Cannot read the CA file \/missing.pem .*ENOENT/);
    await assert.rejects(loadCaFile('/bad.pem', read, '/'), /holds no PEM certificate/);
  });
});

describe('createNetwork', () => {
  it('picks the WebSocket agent from the decision: none, https.Agent, or a CONNECT tunnel', async () => {
    const plain = await createNetwork({ deploymentUrl: 'https://c.io', env: {} });
    assert.equal(plain.wsAgent, undefined);
    assert.match(plain.summary, /direct \(no proxy configured\), system CAs, TLS verified, no header command/);
    await plain.dispose();

    const insecure = await createNetwork({ deploymentUrl: 'https://c.io', env: {}, insecure: true });
    assert.ok(insecure.wsAgent instanceof https.Agent);
    assert.equal(insecure.wsAgent.options.rejectUnauthorized, false);
    assert.match(insecure.summary, /TLS NOT verified/);
    assert.equal(insecure.wsAgentFor('ws://c.io/x'), undefined, 'plain ws needs no TLS agent');
    await insecure.dispose();

    const proxied = await createNetwork({
      deploymentUrl: 'https://c.io',
      env: { HTTPS_PROXY: 'http://a:secret@p:3128', NO_PROXY: 'local.io' },
    });
    assert.equal(proxied.wsAgent?.constructor.name, 'TunnelAgent');
    assert.equal(proxied.wsAgentFor('wss://x.local.io'), undefined);
    assert.match(proxied.summary, /^proxy HTTPS_PROXY \(http:\/\/p:3128\)/);
    assert.ok(!proxied.summary.includes('secret'));
    await proxied.dispose();
  });

  it('refuses an unusable proxy with a clear error', async () => {
    await assert.rejects(
      createNetwork({ deploymentUrl: 'https://c.io', env: { HTTPS_PROXY: 'socks5://s:1' } }),
      /Cannot use the proxy: .*socks5:/,
    );
  });

  it('runs the header command once per burst, retries after a failure, logs names only', async () => {
    let runs = 0;
    let fail = false;
    const exec: ExecFn = async () => {
      runs++;
      return fail ? { stdout: '', code: 1, timedOut: false } : { stdout: `X-Auth=${SECRET}\n`, code: 0, timedOut: false };
    };
    let t = 0;
    const log = new MemoryLogger();
    const net = await createNetwork({
      deploymentUrl: 'https://c.io',
      env: {},
      headerCommand: 'x',
      exec,
      now: () => t,
      log,
      headerCacheMs: 1000,
    });
    const [a, b] = await Promise.all([net.headers(), net.headers()]);
    assert.deepEqual(a, { 'X-Auth': SECRET });
    assert.deepEqual(b, a);
    assert.equal(runs, 1);
    t = 2000;
    fail = true;
    await assert.rejects(net.headers(), HeaderCommandError);
    fail = false;
    assert.deepEqual(await net.headers(), { 'X-Auth': SECRET });
    assert.equal(runs, 3);
    assert.ok(log.lines.some((l) => l.includes('X-Auth')));
    assert.ok(
      log.lines.every((l) => !l.includes('eyJ')),
      log.lines.join('\n'),
    );
    await net.dispose();
  });

  it('gives no headers without a command', async () => {
    const net = await createNetwork({ deploymentUrl: 'https://c.io', env: {}, headerCommand: '  ' });
    assert.deepEqual(await net.headers(), {});
    await net.dispose();
  });
});
