/**
 * `GET /api/v2/tailnet?version=2.3` as a transport for ReconnectingStream: the WebSocket is
 * opened with the same network options as every other stream (the client's agent for proxy,
 * extra CA and insecure mode; its headers for the token and the header command), without an
 * Origin header, and its binary messages are one byte stream for WorkspaceUpdatesCall.
 *
 * Refusals of the upgrade keep their body. On this route only a 401 means "signed out"; 400
 * (server older than tailnet 2.3), 403 (a proxy or policy), 404 (no route) and 409
 * (browser-only deployment) mean "the push is not available here".
 */
import WebSocket from 'ws';
import type { Clock } from '../../common/clock';
import type { CoderClient } from '../client';
import { CoderApiError } from '../errors';
import type { CloseReason, Connect } from '../socket';
import { readUpgradeFailure, type UpgradeFailure } from '../upgradeError';
import { WorkspaceUpdatesCall, type KeepAliveOptions } from './call';
import { uuidBytes, type FleetDelta } from './messages';

export const TAILNET_PATH = '/api/v2/tailnet?version=2.3';

/** One pushed message; the first after each (re)connect is the snapshot of the whole fleet. */
export interface FleetUpdate extends FleetDelta {
  snapshot: boolean;
}

export interface TailnetTransportOptions {
  client: CoderClient;
  clock: Clock;
  /** The owner's UUID (the `id` of /users/me). */
  ownerId: () => Promise<string>;
  keepAlive?: KeepAliveOptions;
  handshakeTimeoutMs?: number;
  /** Sees each call as it starts (tests assert on its buffered bytes). */
  onCall?: (call: WorkspaceUpdatesCall) => void;
}

/** Statuses of the upgrade that mean "not offered here" on this route. */
const UNAVAILABLE = new Set([400, 403, 404, 409]);
/** The server sends frames of at most a window (256 KiB) per message; anything far larger is not yamux. */
const MAX_MESSAGE_BYTES = 4 << 20;

export function upgradeRefusal(f: UpgradeFailure): CloseReason {
  return UNAVAILABLE.has(f.status) ? { kind: 'unavailable', ...f } : { kind: 'http', ...f };
}

export function workspaceUpdatesTransport(o: TailnetTransportOptions): Connect<FleetUpdate> {
  return (h) => {
    let ws: WebSocket | undefined;
    let call: WorkspaceUpdatesCall | undefined;
    let done = false;
    let refused = false;
    const finish = (reason: CloseReason) => {
      if (done) return;
      done = true;
      call?.close();
      closeSocket(ws);
      h.onClose(reason);
    };
    const start = async () => {
      const owner = uuidBytes(await o.ownerId());
      if (!owner) return finish({ kind: 'unsupported', message: 'the user id from /users/me is not a UUID' });
      const headers = withoutOrigin(await o.client.wsHeaders());
      if (done) return;
      const sock = new WebSocket(o.client.streamUrl(TAILNET_PATH), {
        headers,
        agent: o.client.httpAgent,
        handshakeTimeout: o.handshakeTimeoutMs ?? 15_000,
        perMessageDeflate: false,
        maxPayload: MAX_MESSAGE_BYTES,
      });
      ws = sock;
      sock.on('unexpected-response', (req, res) => {
        refused = true;
        void readUpgradeFailure(res, o.client.secrets).then((f) => {
          finish(upgradeRefusal(f));
          req.destroy();
        });
      });
      sock.on('open', () => {
        if (done) return;
        let first = true;
        call = new WorkspaceUpdatesCall({
          clock: o.clock,
          ownerId: owner,
          ...o.keepAlive,
          write: (bytes) => {
            if (sock.readyState === WebSocket.OPEN) sock.send(bytes, { binary: true });
          },
          onUpdate: (delta) => {
            if (done) return;
            h.onFrame({ ...delta, snapshot: first });
            first = false;
          },
          onEnd: finish,
        });
        o.onCall?.(call);
        h.onOpen();
      });
      sock.on('ping', () => {
        if (done) return;
        call?.noteAlive();
        h.onAlive();
      });
      sock.on('message', (data, isBinary) => {
        if (done || !call) return;
        if (!isBinary) return finish({ kind: 'protocol', message: 'websocket: text message on the tailnet stream' });
        for (const chunk of chunksOf(data)) call.receive(chunk);
        if (!done) h.onAlive();
      });
      sock.on('error', (err) => {
        if (!refused) finish({ kind: 'network', message: err.message });
      });
      sock.on('close', (code, reason) => {
        if (refused) return;
        // The private-range mirror of a 403 means "refused here" on this route too, not "signed out".
        if (code === 4403) finish({ kind: 'unavailable', status: 403, message: reason.toString() || undefined });
        else finish({ kind: 'closed', code, reason: reason.toString() });
      });
    };
    start().catch((e: unknown) => finish(reasonOfError(e)));
    return {
      close: () => {
        if (done) return;
        done = true;
        call?.close();
        closeSocket(ws);
      },
    };
  };
}

function reasonOfError(e: unknown): CloseReason {
  if (e instanceof CoderApiError && e.kind === 'http') {
    return { kind: 'http', status: e.status, message: e.message, detail: e.detail, validations: e.validations };
  }
  return { kind: 'network', message: e instanceof CoderApiError ? e.describe() : e instanceof Error ? e.message : String(e) };
}

/** A browser sends Origin and the server checks it; a non-browser client sends none, even if a header command would. */
function withoutOrigin(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'origin') out[k] = v;
  return out;
}

function chunksOf(data: WebSocket.RawData): Uint8Array[] {
  if (Array.isArray(data)) return data;
  if (data instanceof ArrayBuffer) return [new Uint8Array(data)];
  return [data];
}

function closeSocket(ws: WebSocket | undefined): void {
  if (!ws) return;
  if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
  else if (ws.readyState === WebSocket.OPEN) {
    ws.close(1000);
    // A peer that never answers the close handshake must not keep the socket alive.
    setTimeout(() => ws.terminate(), 1000).unref();
  }
}
