// createNetwork over real loopback sockets: an HTTPS + WebSocket server with a self-signed
// certificate, and a CONNECT proxy that requires a password. Proves that the fetch and the
// WebSocket agent really go through the proxy, trust the CA file, and honour `insecure`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { createNetwork } from '../../src/api/network';

const HOST = 'coder.test'; // not loopback by name, so the proxy rules apply; the proxy maps it to 127.0.0.1

let dir: string;
let certFile: string;
let server: https.Server;
let proxy: http.Server;
let serverPort = 0;
let proxyPort = 0;
const connects: string[] = [];
const seenHeaders: http.IncomingHttpHeaders[] = [];

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const listen = (s: net.Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));

describe('createNetwork over real sockets', { skip: !hasOpenssl() && 'openssl is not installed' }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'coder-net-'));
    certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '1',
        '-subj',
        `/CN=${HOST}`,
        '-addext',
        `subjectAltName=DNS:${HOST},IP:127.0.0.1`,
      ],
      { stdio: 'ignore' },
    );
    server = https.createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => {
      seenHeaders.push(req.headers);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ version: 'v2.99.0', path: req.url }));
    });
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws, req) => {
      seenHeaders.push(req.headers);
      ws.send('hello');
    });
    serverPort = await listen(server);

    proxy = http.createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      const auth = req.headers['proxy-authorization'];
      if (auth !== `Basic ${Buffer.from('bob:pa ss').toString('base64')}`) {
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
        return;
      }
      connects.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = net.connect(Number(port), host === HOST ? '127.0.0.1' : (host ?? ''), () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    proxyPort = await listen(proxy);
  });

  after(() => {
    server?.closeAllConnections();
    server?.close();
    proxy?.closeAllConnections();
    proxy?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const wsMessage = (url: string, agent: http.Agent | undefined) =>
    new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(url, { agent, headers: { 'X-Test': '1' } });
      ws.once('message', (d) => {
        resolve(String(d));
        ws.close();
      });
      ws.once('error', reject);
    });

  it('fetch and WebSocket go through the proxy with its credentials and trust the CA file', async () => {
    const network = await createNetwork({
      deploymentUrl: `https://${HOST}:${serverPort}`,
      env: { HTTPS_PROXY: `http://bob:pa%20ss@127.0.0.1:${proxyPort}` },
      tlsCaFile: certFile,
      headerCommand: 'echo X-From-Command=yes',
    });
    try {
      const res = await network.fetch(`https://${HOST}:${serverPort}/api/v2/buildinfo`, { headers: await network.headers() });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { version: 'v2.99.0', path: '/api/v2/buildinfo' });
      assert.equal(seenHeaders.at(-1)?.['x-from-command'], 'yes');
      assert.equal(await wsMessage(`wss://${HOST}:${serverPort}/ws`, network.wsAgent), 'hello');
      assert.equal(connects.filter((c) => c === `${HOST}:${serverPort}`).length >= 2, true, connects.join(' '));
    } finally {
      await network.dispose();
    }
  });

  it('without the CA file the self-signed deployment is refused, with insecure it is accepted', async () => {
    const strict = await createNetwork({ deploymentUrl: `https://127.0.0.1:${serverPort}`, env: {} });
    try {
      await assert.rejects(strict.fetch(`https://127.0.0.1:${serverPort}/`), (e: Error) =>
        /self-signed|certificate/i.test(String((e.cause as Error | undefined)?.message ?? e.message)),
      );
      await assert.rejects(wsMessage(`wss://127.0.0.1:${serverPort}/ws`, strict.wsAgent), /self-signed|certificate/i);
    } finally {
      await strict.dispose();
    }
    const insecure = await createNetwork({ deploymentUrl: `https://127.0.0.1:${serverPort}`, env: {}, insecure: true });
    try {
      assert.equal((await insecure.fetch(`https://127.0.0.1:${serverPort}/x`)).status, 200);
      assert.equal(await wsMessage(`wss://127.0.0.1:${serverPort}/ws`, insecure.wsAgent), 'hello');
    } finally {
      await insecure.dispose();
    }
  });

  it('goes direct to a loopback deployment even with a proxy configured', async () => {
    const before = connects.length;
    const network = await createNetwork({
      deploymentUrl: `https://127.0.0.1:${serverPort}`,
      httpProxy: `http://127.0.0.1:${proxyPort}`,
      tlsCaFile: certFile,
      env: {},
    });
    try {
      assert.equal((await network.fetch(`https://127.0.0.1:${serverPort}/`)).status, 200);
      assert.equal(connects.length, before, 'loopback never goes through the proxy');
    } finally {
      await network.dispose();
    }
  });

  it('a wrong proxy password surfaces as an error, not a hang', async () => {
    const network = await createNetwork({
      deploymentUrl: `https://${HOST}:${serverPort}`,
      env: { HTTPS_PROXY: `http://bob:wrong@127.0.0.1:${proxyPort}` },
      tlsCaFile: certFile,
    });
    try {
      await assert.rejects(network.fetch(`https://${HOST}:${serverPort}/`));
      await assert.rejects(wsMessage(`wss://${HOST}:${serverPort}/ws`, network.wsAgent));
    } finally {
      await network.dispose();
    }
  });
});
