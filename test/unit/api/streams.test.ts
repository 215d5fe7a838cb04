import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CoderClient } from '../../../src/api/client';
import type { CloseReason, Connect, TransportHandle } from '../../../src/api/socket';
import { connectionWatch, followAgentLogs, watchSse, watchWs } from '../../../src/api/streams';
import { FakeServer, until, workspaceJson } from './fakeServer';

const TOKEN = 'AbCdEfGhIj-abcdefghijklmnopqrstuv';
let server: FakeServer;
let client: CoderClient;

before(async () => {
  server = await new FakeServer().listen();
  client = new CoderClient({ baseUrl: server.url, token: TOKEN });
});
after(() => server.close());

/** Connects a transport and records what it reports; `wait` resolves when `check` holds. */
function run<T>(connect: Connect<T>) {
  const log = { opened: 0, alive: 0, frames: [] as T[], closed: undefined as CloseReason | undefined, invalid: [] as string[] };
  const pokes = new Set<() => void>();
  const poke = () => {
    for (const p of pokes) p();
  };
  const handle: TransportHandle = connect({
    onOpen: () => {
      log.opened++;
      poke();
    },
    onAlive: () => {
      log.alive++;
      poke();
    },
    onFrame: (f) => {
      log.frames.push(f);
      poke();
    },
    onClose: (r) => {
      log.closed = r;
      poke();
    },
  });
  const wait = async (check: () => boolean, what: string) => {
    const u = until(check, 3000, what);
    pokes.add(u.poke);
    await u.done.finally(() => pokes.delete(u.poke));
  };
  return {
    log,
    handle,
    wait,
    invalid: (r: string) => {
      log.invalid.push(r);
      poke();
    },
  };
}

test('connection-watch: token on the upgrade, agent_name in the query, frames validated', async () => {
  server.ws('/api/v2/workspaces/w1/agent-connection-watch', (req) => {
    assert.equal(req.headers['coder-session-token'], TOKEN);
    return (ws) => {
      ws.send(JSON.stringify({ error: null, build_update: { transition: 'start', job_status: 'succeeded' } }));
      ws.send('not json');
      ws.send(JSON.stringify({ agent_update: { lifecycle: 123 } }));
      ws.send(JSON.stringify({ error: null, agent_update: { lifecycle: 'ready', id: 'a2' }, job_log: { extra: true } }));
      ws.ping();
    };
  });
  const invalid: string[] = [];
  const r = run(connectionWatch(client, 'w1', 'main', (x) => invalid.push(x)));
  await r.wait(() => r.log.frames.length === 2 && r.log.alive >= 3, 'frames and ping');
  assert.equal(r.log.opened, 1);
  assert.equal(r.log.frames[1]?.agent_update?.id, 'a2');
  assert.equal(invalid.length, 2);
  assert.match(invalid[1]!, /^connection-watch frame: agent_update/);
  const upgrade = server.requests.find((q) => q.upgrade && q.path.includes('agent-connection-watch'));
  assert.equal(upgrade?.path, '/api/v2/workspaces/w1/agent-connection-watch?agent_name=main');
  r.handle.close();
});

test('connection-watch: a WatchError followed by a normal close is reported as the close reason', async () => {
  server.ws('/api/v2/workspaces/w2/agent-connection-watch', () => (ws) => {
    ws.send(JSON.stringify({ error: { code: 1, retryable: false, message: 'too many agents' } }));
    ws.close(1000);
  });
  const r = run(connectionWatch(client, 'w2'));
  await r.wait(() => r.log.closed !== undefined, 'close');
  const closed = r.log.closed;
  assert.equal(closed?.kind, 'watch-error');
  if (closed?.kind === 'watch-error')
    assert.deepEqual([closed.error.code, closed.error.retryable, closed.error.message], [1, false, 'too many agents']);
  assert.equal(r.log.frames.length, 0);
});

test('a refused upgrade reports its HTTP status (404 -> next rung, 401 -> signed out)', async () => {
  server.ws('/api/v2/workspaces/w3/watch-ws', () => 401);
  const a = run(connectionWatch(client, 'nope'));
  const b = run(watchWs(client, 'w3'));
  await a.wait(() => a.log.closed !== undefined, '404');
  await b.wait(() => b.log.closed !== undefined, '401');
  assert.equal(a.log.closed?.kind === 'http' && a.log.closed.status, 404);
  assert.equal(b.log.closed?.kind === 'http' && b.log.closed.status, 401);
  // The refusal's JSON body is kept, so that the log can say why.
  assert.equal(b.log.closed?.kind === 'http' && b.log.closed.message, 'refused 401');
});

test('a refused upgrade keeps the codersdk.Response body: message, detail, validations', async () => {
  const body = JSON.stringify({
    message: 'Invalid query',
    detail: `token ${TOKEN} rejected`,
    validations: [{ field: 'q', detail: 'bad' }],
  });
  const refuser = http.createServer();
  refuser.on('upgrade', (_req, socket: Socket) => {
    socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
  await new Promise<void>((r) => refuser.listen(0, '127.0.0.1', r));
  const port = (refuser.address() as AddressInfo).port;
  try {
    const r = run(watchWs(new CoderClient({ baseUrl: `http://127.0.0.1:${port}`, token: TOKEN }), 'w1'));
    await r.wait(() => r.log.closed !== undefined, 'close');
    assert.deepEqual(r.log.closed, {
      kind: 'http',
      status: 400,
      message: 'Invalid query',
      detail: 'token <redacted> rejected',
      validations: [{ field: 'q', detail: 'bad' }],
    });
  } finally {
    refuser.closeAllConnections();
    await new Promise<void>((r) => refuser.close(() => r()));
  }
});

test('an unreachable server is a network close', async () => {
  const dead = new CoderClient({ baseUrl: 'http://127.0.0.1:1', token: TOKEN });
  const r = run(watchWs(dead, 'w1'));
  await r.wait(() => r.log.closed !== undefined, 'close');
  assert.equal(r.log.closed?.kind, 'network');
});

test('watch-ws: ping envelopes are liveness, data envelopes carry the whole workspace, bad ones are skipped', async () => {
  server.ws('/api/v2/workspaces/w4/watch-ws', () => (ws) => {
    ws.send(JSON.stringify({ type: 'ping', data: null }));
    ws.send(JSON.stringify({ type: 'data', data: { id: 'w4' } }));
    ws.send(
      JSON.stringify({ type: 'data', data: workspaceJson({ id: 'w4', agents: [{ id: 'a1', name: 'main', lifecycle: 'brand_new' }] }) }),
    );
    ws.send(JSON.stringify({ type: 'error', data: { message: 'database hiccup' } }));
  });
  const invalid: string[] = [];
  const r = run(watchWs(client, 'w4', (x) => invalid.push(x)));
  await r.wait(() => r.log.frames.length === 2, 'frames');
  const first = r.log.frames[0];
  assert.equal(first?.type, 'workspace');
  if (first?.type === 'workspace') {
    assert.equal(first.workspace.latest_build.resources[0]?.agents[0]?.lifecycle_state, 'brand_new', 'unknown enum kept');
  }
  assert.deepEqual(r.log.frames[1], { type: 'error', error: { message: 'database hiccup' } });
  assert.equal(invalid.length, 1);
  assert.ok(r.log.alive >= 2);
  r.handle.close();
});

test('SSE watch: parses events over a streaming answer; ping is liveness', async () => {
  server.on('GET /api/v2/workspaces/w5/watch', (req, res) => {
    assert.equal(req.headers['coder-session-token'], TOKEN);
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.write('event: ping\n\n');
    const body = JSON.stringify(workspaceJson({ id: 'w5', agents: [{ id: 'a1', name: 'main' }] }));
    res.write(`event: data\ndata: ${body.slice(0, 50)}`);
    setImmediate(() => res.write(`${body.slice(50)}\n\nevent: data\ndata: {broken\n\n`));
  });
  const invalid: string[] = [];
  const r = run(watchSse(client, 'w5', (x) => invalid.push(x)));
  await r.wait(() => r.log.frames.length === 1 && invalid.length === 1, 'frame');
  assert.equal(r.log.opened, 1);
  assert.ok(r.log.alive >= 1);
  r.handle.close();
});

test('SSE watch: 404 and non-event-stream answers are unsupported, 401 is auth', async () => {
  server.json('GET /api/v2/workspaces/w6/watch', { message: 'Unauthorized' }, 401);
  server.on('GET /api/v2/workspaces/w7/watch', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<html>');
  });
  const a = run(watchSse(client, 'missing'));
  const b = run(watchSse(client, 'w6'));
  const c = run(watchSse(client, 'w7'));
  await a.wait(() => a.log.closed !== undefined, '404');
  await b.wait(() => b.log.closed !== undefined, '401');
  await c.wait(() => c.log.closed !== undefined, 'html');
  assert.deepEqual(a.log.closed && a.log.closed.kind === 'http' && a.log.closed.status, 404);
  assert.deepEqual(b.log.closed && b.log.closed.kind === 'http' && b.log.closed.status, 401);
  assert.equal(c.log.closed?.kind, 'unsupported');
});

test('followAgentLogs: every frame is an array of log lines', async () => {
  server.ws('/api/v2/workspaceagents/a1/logs', (req) => {
    assert.match(req.url ?? '', /follow&after=7/);
    return (ws) => {
      ws.send('[]');
      ws.send(JSON.stringify([{ id: 8, created_at: 't', output: 'hello', level: 'info', source_id: 's' }]));
      ws.send(JSON.stringify({ not: 'an array' }));
    };
  });
  const invalid: string[] = [];
  const r = run(followAgentLogs(client, 'a1', 7, (x) => invalid.push(x)));
  await r.wait(() => r.log.frames.length === 2 && invalid.length === 1, 'logs');
  assert.equal(r.log.frames[1]?.[0]?.output, 'hello');
  r.handle.close();
});
