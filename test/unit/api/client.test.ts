import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoderClient } from '../../../src/api/client';
import { CoderApiError, isUnsupported } from '../../../src/api/errors';
import { USER_JSON, workspaceJson } from './fakeServer';

const TOKEN = 'AbCdEfGhIj-abcdefghijklmnopqrstuv';

interface Call {
  url: string;
  init: RequestInit;
}

function fakeFetch(answer: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fn = (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(input), init: init ?? {} });
    return answer(String(input), init ?? {});
  }) as typeof fetch;
  return { calls, fn };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

function client(fetchFn: typeof fetch, extra: Partial<ConstructorParameters<typeof CoderClient>[0]> = {}) {
  return new CoderClient({ baseUrl: 'https://coder.example.com/', token: TOKEN, fetch: fetchFn, ...extra });
}

async function rejects(p: Promise<unknown>): Promise<CoderApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CoderApiError, `not a CoderApiError: ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

test('sends the session token, user agent and extra headers', async () => {
  const f = fakeFetch(() => json(USER_JSON));
  const c = client(f.fn, { headers: async () => ({ 'X-Proxy': 'yes' }), userAgent: 'ua/1' });
  const me = await c.me();
  assert.equal(me.username, 'alice');
  const call = f.calls[0]!;
  assert.equal(call.url, 'https://coder.example.com/api/v2/users/me');
  const h = call.init.headers as Record<string, string>;
  assert.equal(h['Coder-Session-Token'], TOKEN);
  assert.equal(h['User-Agent'], 'ua/1');
  assert.equal(h['X-Proxy'], 'yes');
});

test('an error body becomes a typed error with status, message, detail and validations', async () => {
  const f = fakeFetch(() =>
    json(
      {
        message: 'You are signed out or your session has expired. Please sign in again to continue.',
        detail: `API key ${TOKEN} expired`,
      },
      401,
    ),
  );
  const e = await rejects(client(f.fn).me());
  assert.equal(e.kind, 'http');
  assert.equal(e.status, 401);
  assert.match(e.message, /signed out/);
  assert.ok(!e.detail?.includes(TOKEN), 'token must be redacted');

  const v = fakeFetch(() => json({ message: 'Invalid query', validations: [{ field: 'q', detail: 'unknown key "foo"' }] }, 400));
  const e2 = await rejects(client(v.fn).workspaces('foo:bar'));
  assert.deepEqual(e2.validations, [{ field: 'q', detail: 'unknown key "foo"' }]);
});

test('a non-JSON error body still gives the status', async () => {
  const f = fakeFetch(() => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
  const e = await rejects(client(f.fn).me());
  assert.equal(e.status, 502);
  assert.equal(e.message, 'HTTP 502 Bad Gateway');
});

test('an answer that does not match the schema is invalid-response', async () => {
  const f = fakeFetch(() => json({ workspaces: [{ id: 'w1' }], count: 1 }));
  const e = await rejects(client(f.fn).workspaces('owner:me'));
  assert.equal(e.kind, 'invalid-response');
  const g = fakeFetch(() => new Response('not json', { status: 200 }));
  assert.equal((await rejects(client(g.fn).me())).kind, 'invalid-response');
});

test('a request that never answers times out; an external abort is "aborted"', async () => {
  const hang = fakeFetch(
    (_u, init) =>
      new Promise<Response>((_r, reject) => {
        if (init.signal?.aborted) reject(new DOMException('aborted', 'AbortError'));
        init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      }),
  );
  const e = await rejects(client(hang.fn, { timeoutMs: 10 }).me());
  assert.equal(e.kind, 'timeout');
  const ctrl = new AbortController();
  const p = client(hang.fn, { timeoutMs: 60_000 }).me({ signal: ctrl.signal });
  ctrl.abort();
  assert.equal((await rejects(p)).kind, 'aborted');
});

test('a network failure is kind network and names no token', async () => {
  const f = fakeFetch(() => {
    throw new TypeError('fetch failed', { cause: new Error(`ECONNREFUSED ${TOKEN}`) });
  });
  const e = await rejects(client(f.fn).me());
  assert.equal(e.kind, 'network');
  assert.ok(!e.message.includes(TOKEN));
});

test('allWorkspaces pages until count is reached', async () => {
  const all = Array.from({ length: 5 }, (_, i) => workspaceJson({ id: `w${i}` }));
  const f = fakeFetch((url) => {
    const u = new URL(url);
    const offset = Number(u.searchParams.get('offset'));
    const limit = Number(u.searchParams.get('limit'));
    assert.equal(u.searchParams.get('q'), 'owner:me status:running');
    return json({ workspaces: all.slice(offset, offset + limit), count: all.length });
  });
  const list = await client(f.fn).allWorkspaces('owner:me status:running', { pageSize: 2 });
  assert.deepEqual(
    list.map((w) => w.id),
    ['w0', 'w1', 'w2', 'w3', 'w4'],
  );
  assert.equal(f.calls.length, 3);
});

test('paths are encoded; createBuild posts the transition', async () => {
  const f = fakeFetch((url, init) => {
    if (init.method === 'POST') return json(workspaceJson({ id: 'w1', buildNumber: 2 }).latest_build, 201);
    return json(workspaceJson({ id: 'w1' }));
  });
  const c = client(f.fn);
  await c.workspaceByName('me', 'a b/c');
  assert.equal(f.calls[0]!.url, 'https://coder.example.com/api/v2/users/me/workspace/a%20b%2Fc');
  const build = await c.createBuild('w1', 'stop');
  assert.equal(build.build_number, 2);
  assert.deepEqual(JSON.parse(String(f.calls[1]!.init.body)), { transition: 'stop' });
});

test('agent operations report unsupported deployments through the status', async () => {
  const f = fakeFetch(() => json({ message: 'Resource not found' }, 404));
  const e = await rejects(client(f.fn).replayLifecycle('a1'));
  assert.ok(isUnsupported(e));
  assert.equal(f.calls[0]!.url, 'https://coder.example.com/api/v2/workspaceagents/a1/lifecycle/replay');
  const ok = fakeFetch(() => json({ message: 'reinitializing' }, 202));
  assert.deepEqual(await client(ok.fn).reinitializeAgent('a1'), { status: 202, message: 'reinitializing' });
});

test('stream helpers: ws(s) URL and upgrade headers', async () => {
  const c = client(fakeFetch(() => json({})).fn, { headers: () => ({ A: 'b' }) });
  assert.equal(c.streamUrl('/api/v2/workspaces/w1/watch-ws'), 'wss://coder.example.com/api/v2/workspaces/w1/watch-ws');
  const plain = new CoderClient({ baseUrl: 'http://localhost:3000', token: TOKEN });
  assert.equal(plain.streamUrl('/x?y=1'), 'ws://localhost:3000/x?y=1');
  const h = await c.wsHeaders();
  assert.equal(h['Coder-Session-Token'], TOKEN);
  assert.equal(h.A, 'b');
});

test('a failing header command is reported without crashing', async () => {
  const c = client(fakeFetch(() => json(USER_JSON)).fn, {
    headers: () => {
      throw new Error('exit 1');
    },
  });
  const e = await rejects(c.me());
  assert.equal(e.kind, 'network');
  assert.match(e.message, /header command failed: exit 1/);
});

test('buildLogs reads the provisioner log of a build, with before/after', async () => {
  const f = fakeFetch(() =>
    json([{ id: 7, created_at: '2026-01-01T00:00:00Z', log_source: 'provisioner', log_level: 'info', stage: 'Starting', output: 'hi' }]),
  );
  const logs = await client(f.fn).buildLogs('b-1', { before: 10 });
  assert.equal(logs[0]?.output, 'hi');
  assert.equal(f.calls[0]?.url, 'https://coder.example.com/api/v2/workspacebuilds/b-1/logs?before=10');
});
