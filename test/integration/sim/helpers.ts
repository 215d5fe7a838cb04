/** Small clients for the simulator's conformance tests: raw HTTP and WebSocket, no project code. */
import WebSocket from 'ws';
import type { Simulator } from '../../sim';

export async function get(
  sim: Simulator,
  path: string,
  headers: Record<string, string> = { 'Coder-Session-Token': sim.token },
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sim.url}/api/v2${path}`, { headers });
  return { status: res.status, body: await res.json() };
}

export async function post(sim: Simulator, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sim.url}/api/v2${path}`, {
    method: 'POST',
    headers: { 'Coder-Session-Token': sim.token, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** Opens a WebSocket and collects its text frames; `next()` waits for the next one. */
export function openWs(sim: Simulator, path: string, headers: Record<string, string> = { 'Coder-Session-Token': sim.token }) {
  const ws = new WebSocket(`${sim.url.replace('http', 'ws')}/api/v2${path}`, { headers });
  const frames: string[] = [];
  const waiters: Array<() => void> = [];
  let pings = 0;
  ws.on('message', (d) => {
    frames.push((d as Buffer).toString());
    waiters.splice(0).forEach((w) => w());
  });
  ws.on('ping', () => {
    pings++;
    waiters.splice(0).forEach((w) => w());
  });
  const closed = new Promise<{ code: number }>((resolve) => ws.on('close', (code) => resolve({ code })));
  const refused = new Promise<number>((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
  ws.on('error', () => {});
  let read = 0;
  return {
    ws,
    frames,
    closed,
    refused,
    get pings() {
      return pings;
    },
    opened: new Promise<void>((resolve) => ws.on('open', () => resolve())),
    async next(timeoutMs = 5000): Promise<any> {
      const deadline = Date.now() + timeoutMs;
      while (frames.length <= read) {
        if (Date.now() > deadline) throw new Error(`no frame within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
      return JSON.parse(frames[read++]!);
    },
    async waitPing(n: number, timeoutMs = 5000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (pings < n) {
        if (Date.now() > deadline) throw new Error('no ping');
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
  };
}
