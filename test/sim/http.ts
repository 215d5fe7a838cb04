/** HTTP plumbing of the simulator: Coder-style error bodies, auth, the workspace search filter. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimUser, WorkspaceRow } from './state';

export const SIGNED_OUT = 'You are signed out or your session has expired. Please sign in again to continue.';
export const NOT_FOUND = 'Resource not found or you do not have access to this resource';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, message: string, detail?: string, validations?: unknown[]): void {
  sendJson(res, status, { message, ...(detail ? { detail } : {}), ...(validations ? { validations } : {}) });
}

export function errorBody(status: number, message: string, detail?: string): string {
  const text = JSON.stringify({ message, ...(detail ? { detail } : {}) });
  return `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`;
}

/** The session token from the header, a Bearer token, the cookie or the query parameter. */
export function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers['coder-session-token'];
  if (typeof header === 'string' && header) return header;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  const cookie = req.headers.cookie
    ?.split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith('coder_session_token='));
  if (cookie) return cookie.slice('coder_session_token='.length);
  return url.searchParams.get('coder_session_token') ?? undefined;
}

export type AuthResult = { ok: true; user: SimUser } | { ok: false; detail: string };

export function authenticate(token: string | undefined, tokens: Map<string, { user: SimUser; expired: boolean }>): AuthResult {
  if (!token) return { ok: false, detail: 'Cookie "coder_session_token" or header "Coder-Session-Token" must be provided.' };
  if (!/^[a-zA-Z0-9]{10}-[a-zA-Z0-9]{22}$/.test(token)) return { ok: false, detail: 'Invalid "Coder-Session-Token" format.' };
  const entry = tokens.get(token);
  if (!entry) return { ok: false, detail: 'API key is invalid.' };
  if (entry.expired) return { ok: false, detail: 'API key expired.' };
  return { ok: true, user: entry.user };
}

const FILTER_KEYS = new Set(['owner', 'name', 'status', 'template', 'outdated']);

export type Filter =
  { ok: true; match: (ws: WorkspaceRow, status: string) => boolean } | { ok: false; validations: { field: string; detail: string }[] };

/** Parses `q` as coderd does for the keys the simulator supports; an unknown key is a validation error. */
export function parseFilter(q: string, me: SimUser): Filter {
  const terms = q.split(/\s+/).filter(Boolean);
  const checks: Array<(ws: WorkspaceRow, status: string) => boolean> = [];
  const validations: { field: string; detail: string }[] = [];
  for (const term of terms) {
    const i = term.indexOf(':');
    if (i < 0) {
      checks.push((ws) => ws.name.includes(term));
      continue;
    }
    const key = term.slice(0, i);
    const value = term.slice(i + 1);
    if (!FILTER_KEYS.has(key)) {
      validations.push({ field: key, detail: `Query param "${key}" is not a valid query param` });
      continue;
    }
    if (key === 'owner') checks.push((ws) => ws.owner.username === (value === 'me' ? me.username : value));
    if (key === 'name') checks.push((ws) => ws.name.includes(value));
    if (key === 'status') checks.push((_ws, status) => status === value);
    if (key === 'template') checks.push((ws) => ws.template === value);
    if (key === 'outdated') checks.push(() => value === 'false');
  }
  if (validations.length) return { ok: false, validations };
  return { ok: true, match: (ws, status) => checks.every((c) => c(ws, status)) };
}

export async function readBody(req: IncomingMessage, limit = 1 << 20): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}
