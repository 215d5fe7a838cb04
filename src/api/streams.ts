/**
 * Transports of the Coder streams, each a `Connect` for ReconnectingStream: they turn sockets
 * and event streams into validated frames and a CloseReason. A bad frame is reported through
 * `onInvalid` and skipped; it never ends the stream. A failed upgrade reports its HTTP status
 * and the refusal's JSON body (message, detail, validations), so that the owner can tell "not
 * offered here" (404) from "signed out" (401/403) and the log can say why.
 */
import WebSocket from 'ws';
import type { CoderClient } from './client';
import { CoderApiError } from './errors';
import {
  ConnectionWatchEventSchema,
  ErrorResponseSchema,
  ServerSentEventSchema,
  WorkspaceAgentLogsSchema,
  WorkspaceSchema,
  safeParse,
  type ConnectionWatchEvent,
  type ErrorResponse,
  type WatchError,
  type Workspace,
  type WorkspaceAgentLog,
} from './schemas';
import type { CloseReason, Connect, TransportHandlers } from './socket';
import { SseParser } from './sse';
import { readUpgradeFailure } from './upgradeError';

export type InvalidFrameListener = (reason: string) => void;

/** What watch-ws and SSE watch deliver: a whole workspace, or an error event (stream stays open). */
export type WatchEvent = { type: 'workspace'; workspace: Workspace } | { type: 'error'; error: ErrorResponse };

export interface SocketSpec<T> {
  client: CoderClient;
  path: string;
  /** Turns one text frame (already JSON-parsed) into what the owner gets; undefined = handled. */
  decode: (json: unknown, h: TransportHandlers<T>, fail: (reason: CloseReason) => void) => T | undefined;
  onInvalid?: InvalidFrameListener;
  /** The time allowed for the upgrade. */
  handshakeTimeoutMs?: number;
}

/** A WebSocket whose text frames are JSON documents. */
export function jsonSocket<T>(spec: SocketSpec<T>): Connect<T> {
  return (h) => {
    let ws: WebSocket | undefined;
    let done = false;
    let pendingReason: CloseReason | undefined;
    let refused = false; // the upgrade was answered: its body, being read, is the reason
    const finish = (reason: CloseReason) => {
      if (done) return;
      done = true;
      h.onClose(reason);
    };
    spec.client.wsHeaders().then(
      (headers) => {
        if (done) return;
        ws = new WebSocket(spec.client.streamUrl(spec.path), {
          headers,
          agent: spec.client.httpAgent,
          handshakeTimeout: spec.handshakeTimeoutMs ?? 15_000,
          perMessageDeflate: false,
        });
        ws.on('unexpected-response', (req, res) => {
          refused = true;
          void readUpgradeFailure(res, spec.client.secrets).then((f) => {
            finish({ kind: 'http', ...f });
            req.destroy();
          });
        });
        ws.on('open', () => {
          if (!done) h.onOpen();
        });
        ws.on('ping', () => {
          if (!done) h.onAlive();
        });
        ws.on('pong', () => {
          if (!done) h.onAlive();
        });
        ws.on('message', (data, isBinary) => {
          if (done) return;
          if (isBinary) {
            spec.onInvalid?.('binary frame');
            h.onAlive();
            return;
          }
          let json: unknown;
          try {
            json = JSON.parse(textOf(data));
          } catch {
            spec.onInvalid?.('frame is not JSON');
            h.onAlive();
            return;
          }
          const frame = spec.decode(json, h, (r) => {
            pendingReason = r;
          });
          if (frame !== undefined) h.onFrame(frame);
        });
        ws.on('error', (err) => {
          if (!refused) finish({ kind: 'network', message: err.message });
        });
        ws.on('close', (code, reason) => {
          if (!refused) finish(pendingReason ?? { kind: 'closed', code, reason: reason.toString() });
        });
      },
      (e: unknown) => finish({ kind: 'network', message: e instanceof Error ? e.message : String(e) }),
    );
    return {
      close: () => {
        done = true;
        if (!ws) return;
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000);
        // A peer that never answers the close handshake must not keep the socket alive.
        const sock = ws;
        setTimeout(() => sock.terminate(), 1000).unref();
      },
    };
  };
}

/** GET /workspaces/{id}/agent-connection-watch: lifecycle and id of one agent, build changes. */
export function connectionWatch(
  client: CoderClient,
  workspaceId: string,
  agentName?: string,
  onInvalid?: InvalidFrameListener,
): Connect<ConnectionWatchEvent> {
  const query = agentName ? `?agent_name=${encodeURIComponent(agentName)}` : '';
  return jsonSocket<ConnectionWatchEvent>({
    client,
    path: `/api/v2/workspaces/${encodeURIComponent(workspaceId)}/agent-connection-watch${query}`,
    onInvalid,
    decode(json, h, fail) {
      const r = safeParse(ConnectionWatchEventSchema, json);
      if (!r.ok) {
        onInvalid?.(`connection-watch frame: ${r.reason}`);
        h.onAlive();
        return undefined;
      }
      if (r.value.error) {
        // The server sends the error and then closes: report the error as the reason.
        const error: WatchError = r.value.error;
        fail({ kind: 'watch-error', error });
        return undefined;
      }
      return r.value;
    },
  });
}

function decodeEnvelope(json: unknown, h: TransportHandlers<WatchEvent>, onInvalid?: InvalidFrameListener): WatchEvent | undefined {
  const env = safeParse(ServerSentEventSchema, json);
  if (!env.ok) {
    onInvalid?.(`watch envelope: ${env.reason}`);
    h.onAlive();
    return undefined;
  }
  switch (env.value.type) {
    case 'ping':
      h.onAlive();
      return undefined;
    case 'data': {
      const ws = safeParse(WorkspaceSchema, env.value.data);
      if (!ws.ok) {
        onInvalid?.(`watch workspace: ${ws.reason}`);
        h.onAlive();
        return undefined;
      }
      return { type: 'workspace', workspace: ws.value };
    }
    case 'error': {
      const err = safeParse(ErrorResponseSchema, env.value.data);
      return { type: 'error', error: err.ok ? err.value : { message: 'unknown stream error' } };
    }
    default:
      onInvalid?.(`watch event type: ${env.value.type}`);
      h.onAlive();
      return undefined;
  }
}

/** GET /workspaces/{id}/watch-ws: the whole workspace on every change. */
export function watchWs(client: CoderClient, workspaceId: string, onInvalid?: InvalidFrameListener): Connect<WatchEvent> {
  return jsonSocket<WatchEvent>({
    client,
    path: `/api/v2/workspaces/${encodeURIComponent(workspaceId)}/watch-ws`,
    onInvalid,
    decode: (json, h) => decodeEnvelope(json, h, onInvalid),
  });
}

/** GET /workspaceagents/{id}/logs?follow: each frame a JSON array of log lines. */
export function followAgentLogs(
  client: CoderClient,
  agentId: string,
  after?: number,
  onInvalid?: InvalidFrameListener,
): Connect<WorkspaceAgentLog[]> {
  const afterQ = after !== undefined ? `&after=${after}` : '';
  return jsonSocket<WorkspaceAgentLog[]>({
    client,
    path: `/api/v2/workspaceagents/${encodeURIComponent(agentId)}/logs?follow${afterQ}`,
    onInvalid,
    decode(json, h) {
      const r = safeParse(WorkspaceAgentLogsSchema, json);
      if (!r.ok) {
        onInvalid?.(`log frame: ${r.reason}`);
        h.onAlive();
        return undefined;
      }
      return r.value;
    },
  });
}

/** GET /workspaces/{id}/watch: the older Server-Sent Events variant of watch-ws. */
export function watchSse(client: CoderClient, workspaceId: string, onInvalid?: InvalidFrameListener): Connect<WatchEvent> {
  return (h) => {
    const ctrl = new AbortController();
    let done = false;
    const finish = (reason: CloseReason) => {
      if (done) return;
      done = true;
      ctrl.abort();
      h.onClose(reason);
    };
    const run = async () => {
      const res = await client.openStream(`/api/v2/workspaces/${encodeURIComponent(workspaceId)}/watch`, ctrl.signal);
      const type = res.headers.get('content-type') ?? '';
      if (!type.includes('text/event-stream') || !res.body) {
        res.body?.cancel().catch(() => undefined);
        finish({ kind: 'unsupported', message: `not an event stream (${type || 'no content type'})` });
        return;
      }
      if (done) return;
      h.onOpen();
      const parser = new SseParser((ev) => {
        if (done) return;
        if (ev.event === 'ping') {
          h.onAlive();
          return;
        }
        let data: unknown = null;
        if (ev.data !== '') {
          try {
            data = JSON.parse(ev.data);
          } catch {
            onInvalid?.('SSE data is not JSON');
            h.onAlive();
            return;
          }
        }
        const frame = decodeEnvelope({ type: ev.event || 'message', data }, h, onInvalid);
        if (frame) h.onFrame(frame);
      });
      const decoder = new TextDecoder();
      const reader = res.body.getReader();
      for (;;) {
        const { value, done: eof } = await reader.read();
        if (eof) break;
        parser.push(decoder.decode(value, { stream: true }));
      }
      finish({ kind: 'closed', code: 1000, reason: 'event stream ended' });
    };
    run().catch((e: unknown) => {
      if (e instanceof CoderApiError && e.kind === 'http') {
        finish({ kind: 'http', status: e.status, message: e.message, detail: e.detail, validations: e.validations });
      } else finish({ kind: 'network', message: e instanceof Error ? e.message : String(e) });
    });
    return {
      close: () => {
        done = true;
        ctrl.abort();
      },
    };
  };
}

function textOf(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}
