/**
 * REST client of the Coder API. Every answer is validated against the wire schemas, every
 * failure becomes a CoderApiError (never a raw fetch/zod error), and every request is bounded
 * by a timeout and cancellable. Proxies and extra CAs plug in through the injected `fetch`
 * (REST, SSE) and `agent` (WebSockets).
 */
import { systemClock, type Clock } from '../common/clock';
import { ServerClock } from './serverClock';
import type { Agent } from 'node:http';
import type * as z from 'zod';
import { ContainersResponseSchema, type ContainersResponse } from './devcontainerSchemas';
import { CoderApiError } from './errors';
import {
  BuildInfoSchema,
  ErrorResponseSchema,
  ProvisionerJobLogsSchema,
  UserSchema,
  WorkspaceAgentLogsSchema,
  WorkspaceAgentSchema,
  WorkspaceBuildSchema,
  WorkspaceSchema,
  WorkspacesResponseSchema,
  safeParse,
  type BuildInfo,
  type ProvisionerJobLog,
  type Transition,
  type User,
  type Workspace,
  type WorkspaceAgent,
  type WorkspaceAgentLog,
  type WorkspaceBuild,
  type WorkspacesResponse,
} from './schemas';

export const SESSION_TOKEN_HEADER = 'Coder-Session-Token';

export interface CoderClientOptions {
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
  /** Per-request bound, headers and body included. Default 15 s. */
  timeoutMs?: number;
  /** Extra headers, e.g. the output of the user's header command; asked before every request. */
  headers?: () => Promise<Record<string, string>> | Record<string, string>;
  userAgent?: string;
  /** Used for WebSocket upgrades (proxy, extra CA, insecure TLS). */
  agent?: Agent;
  /** The local clock the answers' `Date` headers are compared with (see serverClock.ts). */
  clock?: Clock;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

/** Answer of the non-standard agent operations (lifecycle replay, reinit). */
export interface OperationResult {
  status: number;
  message?: string;
}

export class CoderClient {
  readonly baseUrl: string;
  readonly httpAgent: Agent | undefined;
  private readonly token: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly extraHeaders: CoderClientOptions['headers'];
  private readonly userAgent: string;
  private readonly clock: Clock;
  /** The deployment's clock, from the `Date` header of every answer. */
  readonly serverClock = new ServerClock();

  constructor(opts: CoderClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.token = opts.token;
    this.fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.extraHeaders = opts.headers;
    this.userAgent = opts.userAgent ?? 'coder-workspace-status';
    this.httpAgent = opts.agent;
    this.clock = opts.clock ?? systemClock;
  }

  buildInfo(o?: RequestOptions): Promise<BuildInfo> {
    return this.getJson('/api/v2/buildinfo', BuildInfoSchema, o);
  }

  me(o?: RequestOptions): Promise<User> {
    return this.getJson('/api/v2/users/me', UserSchema, o);
  }

  workspaces(q: string, opts: RequestOptions & { limit?: number; offset?: number } = {}): Promise<WorkspacesResponse> {
    const params = new URLSearchParams({ q });
    if (opts.limit !== undefined) params.set('limit', String(opts.limit));
    if (opts.offset !== undefined) params.set('offset', String(opts.offset));
    return this.getJson(`/api/v2/workspaces?${params}`, WorkspacesResponseSchema, opts);
  }

  /** Every workspace matching `q`, page by page (the server caps a page). */
  async allWorkspaces(q: string, opts: RequestOptions & { pageSize?: number } = {}): Promise<Workspace[]> {
    const pageSize = opts.pageSize ?? 100;
    const out: Workspace[] = [];
    for (;;) {
      const page = await this.workspaces(q, { limit: pageSize, offset: out.length, signal: opts.signal });
      out.push(...page.workspaces);
      if (page.workspaces.length === 0 || out.length >= page.count) return out;
    }
  }

  workspace(id: string, o?: RequestOptions): Promise<Workspace> {
    return this.getJson(`/api/v2/workspaces/${enc(id)}`, WorkspaceSchema, o);
  }

  workspaceByName(owner: string, name: string, o?: RequestOptions): Promise<Workspace> {
    return this.getJson(`/api/v2/users/${enc(owner)}/workspace/${enc(name)}`, WorkspaceSchema, o);
  }

  async createBuild(
    workspaceId: string,
    transition: Transition,
    opts: RequestOptions & { templateVersionId?: string } = {},
  ): Promise<WorkspaceBuild> {
    const body: Record<string, unknown> = { transition };
    if (opts.templateVersionId) body.template_version_id = opts.templateVersionId;
    const res = await this.send('POST', `/api/v2/workspaces/${enc(workspaceId)}/builds`, opts, body);
    return this.parse(res, WorkspaceBuildSchema);
  }

  agent(id: string, o?: RequestOptions): Promise<WorkspaceAgent> {
    return this.getJson(`/api/v2/workspaceagents/${enc(id)}`, WorkspaceAgentSchema, o);
  }

  agentLogs(id: string, after?: number, o?: RequestOptions): Promise<WorkspaceAgentLog[]> {
    const query = after !== undefined ? `?after=${after}` : '';
    return this.getJson(`/api/v2/workspaceagents/${enc(id)}/logs${query}`, WorkspaceAgentLogsSchema, o);
  }

  /** The build's provisioner log, oldest first (`before`: only lines with a smaller id). */
  buildLogs(buildId: string, opts: RequestOptions & { before?: number; after?: number } = {}): Promise<ProvisionerJobLog[]> {
    const params = new URLSearchParams();
    if (opts.before !== undefined) params.set('before', String(opts.before));
    if (opts.after !== undefined) params.set('after', String(opts.after));
    const query = params.size ? `?${params}` : '';
    return this.getJson(`/api/v2/workspacebuilds/${enc(buildId)}/logs${query}`, ProvisionerJobLogsSchema, opts);
  }

  /** Not in the stable API: a 404/405/501 tells the caller the deployment lacks it. */
  replayLifecycle(agentId: string, o?: RequestOptions): Promise<OperationResult> {
    return this.operation(`/api/v2/workspaceagents/${enc(agentId)}/lifecycle/replay`, o);
  }

  /** Not in the stable API: a 404/405/501 tells the caller the deployment lacks it. */
  reinitializeAgent(agentId: string, o?: RequestOptions): Promise<OperationResult> {
    return this.operation(`/api/v2/workspaceagents/${enc(agentId)}/reinit`, o);
  }

  /** A parent agent's containers and dev containers; 400 while the agent is not connected, 404 on servers before v2.23. */
  containers(parentAgentId: string, o?: RequestOptions): Promise<ContainersResponse> {
    return this.getJson(`/api/v2/workspaceagents/${enc(parentAgentId)}/containers`, ContainersResponseSchema, o);
  }

  /** 202 when the rebuild started; any other answer throws (see devcontainers.ts for what they mean). */
  async recreateDevcontainer(parentAgentId: string, devcontainerId: string, o?: RequestOptions): Promise<OperationResult> {
    const path = `/api/v2/workspaceagents/${enc(parentAgentId)}/containers/devcontainers/${enc(devcontainerId)}/recreate`;
    return this.operation(path, o);
  }

  /** ws:// or wss:// URL of a stream path. */
  streamUrl(path: string): string {
    const url = new URL(this.baseUrl + path);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.toString();
  }

  /** Headers of a WebSocket upgrade: token, user agent and the extra headers. */
  async wsHeaders(): Promise<Record<string, string>> {
    return this.headersFor({});
  }

  /**
   * Opens a long-lived streaming GET (SSE). Only the wait for the answer's headers is bounded by
   * the timeout; the body lives until `signal` aborts. Non-2xx answers throw CoderApiError.
   */
  async openStream(path: string, signal: AbortSignal, accept = 'text/event-stream'): Promise<Response> {
    return this.send('GET', path, { signal }, undefined, { accept, streaming: true });
  }

  /** Texts that must never leave this client: used by owners that log around it. */
  get secrets(): readonly string[] {
    return [this.token];
  }

  private async getJson<T>(path: string, schema: z.ZodType<T>, o?: RequestOptions): Promise<T> {
    const res = await this.send('GET', path, o ?? {});
    return this.parse(res, schema);
  }

  private async operation(path: string, o?: RequestOptions): Promise<OperationResult> {
    const res = await this.send('POST', path, o ?? {}, {});
    const text = await res.text().catch(() => '');
    const parsed = ErrorResponseSchema.safeParse(tryJson(text));
    return parsed.success ? { status: res.status, message: parsed.data.message } : { status: res.status };
  }

  private async parse<T>(res: Response & { request?: string }, schema: z.ZodType<T>): Promise<T> {
    const request = res.request;
    let body: unknown;
    try {
      body = await res.json();
    } catch (e) {
      throw this.error({ kind: 'invalid-response', status: res.status, message: 'answer is not JSON', request });
    }
    const r = safeParse(schema, body);
    if (!r.ok) throw this.error({ kind: 'invalid-response', status: res.status, message: `unexpected answer: ${r.reason}`, request });
    return r.value;
  }

  private async headersFor(base: Record<string, string>): Promise<Record<string, string>> {
    let extra: Record<string, string> = {};
    if (this.extraHeaders) {
      try {
        extra = await this.extraHeaders();
      } catch (e) {
        throw this.error({ kind: 'network', message: `header command failed: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
    return { ...base, ...extra, 'User-Agent': this.userAgent, [SESSION_TOKEN_HEADER]: this.token };
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    o: RequestOptions,
    body?: unknown,
    stream?: { accept: string; streaming: true },
  ): Promise<Response & { request?: string }> {
    const request = `${method} ${path.split('?')[0]}`;
    if (o.signal?.aborted) throw this.error({ kind: 'aborted', message: 'request cancelled', request });
    const ctrl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctrl.abort();
    }, this.timeoutMs);
    const onAbort = () => ctrl.abort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      if (!stream) o.signal?.removeEventListener('abort', onAbort);
    };
    try {
      const headers = await this.headersFor({ Accept: stream?.accept ?? 'application/json' });
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      if (ctrl.signal.aborted) throw new Error('aborted before sending');
      const res = await this.fetchFn(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ctrl.signal,
      });
      this.serverClock.observe(res.headers.get('date'), this.clock.now());
      if (!res.ok) throw await this.httpError(res, request);
      if (stream) {
        clearTimeout(timer);
        return Object.assign(res, { request });
      }
      // Read the body under the same timeout, then hand out a response that is already complete.
      const text = await res.text();
      const copy = new Response(text, { status: res.status, headers: res.headers });
      return Object.assign(copy, { request });
    } catch (e) {
      if (e instanceof CoderApiError) throw e;
      if (timedOut) throw this.error({ kind: 'timeout', message: `no answer within ${this.timeoutMs} ms`, request });
      if (o.signal?.aborted) throw this.error({ kind: 'aborted', message: 'request cancelled', request });
      const cause = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
      throw this.error({ kind: 'network', message: `cannot reach ${this.baseUrl}: ${cause}`, request });
    } finally {
      done();
    }
  }

  private async httpError(res: Response, request: string): Promise<CoderApiError> {
    const text = await res.text().catch(() => '');
    const parsed = ErrorResponseSchema.safeParse(tryJson(text));
    if (parsed.success) {
      const { message, detail, validations } = parsed.data;
      return this.error({ kind: 'http', status: res.status, message, detail, validations, request });
    }
    const message = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    return this.error({ kind: 'http', status: res.status, message, request });
  }

  private error(init: ConstructorParameters<typeof CoderApiError>[0]): CoderApiError {
    return new CoderApiError({ ...init, secrets: [this.token] });
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
