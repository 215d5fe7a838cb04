/**
 * The simulated deployment's data: users, workspaces, builds and agent rows, and how they render
 * as codersdk JSON. Agent status is computed when a row is read, as coderd does.
 */
import { randomBytes, randomUUID } from 'node:crypto';

export const INACTIVE_TIMEOUT_MS = 30_000;

export interface SimUser {
  id: string;
  username: string;
  tokens: Set<string>;
}

export interface ScriptSpec {
  display_name: string;
  start_blocks_login: boolean;
}

export interface AgentSpec {
  name: string;
  children?: AgentSpec[];
  scripts?: ScriptSpec[];
  connectionTimeoutSeconds?: number;
  os?: string;
  arch?: string;
  /** Dev containers this (top-level) agent runs; see devcontainers.ts. */
  devcontainers?: DevcontainerSpec[];
  /** The template turned dev containers off on this agent: its containers routes answer 403. */
  devcontainersDisabled?: boolean;
}

export interface DevcontainerSpec {
  name: string;
  /** The child agent (in `children`) that runs inside the container. */
  agent?: string;
  workspaceFolder?: string;
  configPath?: string;
  /** The configuration changed since the container was built. */
  dirty?: boolean;
  /** A sub-agent defined in the template keeps its ID on recreate; an injected one (the default) does not. */
  keepsAgentId?: boolean;
}

export interface WorkspaceSpec {
  owner?: string;
  name: string;
  template?: string;
  agents?: AgentSpec[];
  state?: 'running' | 'stopped';
  /**
   * The template keeps the agent process across builds (a suspend/resume VM): after every start
   * build but the first, the new agent rows connect and stay at `created` (Coder issue 18571).
   */
  keepsAgentProcess?: boolean;
}

export interface AgentLog {
  id: number;
  created_at: string;
  output: string;
  level: string;
  source_id: string;
}

export interface AgentRow {
  id: string;
  parentId: string | null;
  name: string;
  resourceId: string;
  workspaceId: string;
  lifecycle: string;
  createdAt: number;
  updatedAt: number;
  firstConnectedAt?: number;
  lastConnectedAt?: number;
  disconnectedAt?: number;
  startedAt?: number;
  readyAt?: number;
  /** A live agent process keeps last_connected_at fresh (it heartbeats every 15 s). */
  alive: boolean;
  connectionTimeoutSeconds: number;
  os: string;
  arch: string;
  scripts: ScriptSpec[];
  healthReason?: string;
  logs: AgentLog[];
  logSourceId: string;
}

export interface BuildRow {
  id: string;
  workspaceId: string;
  buildNumber: number;
  transition: 'start' | 'stop' | 'delete';
  jobId: string;
  jobStatus: string;
  jobError?: string;
  createdAt: number;
  startedAt?: number;
  completedAt?: number;
  initiator: string;
  resourceId: string;
  agents: AgentRow[];
}

export interface WorkspaceRow {
  id: string;
  name: string;
  owner: SimUser;
  template: string;
  templateId: string;
  agentSpecs: AgentSpec[];
  builds: BuildRow[];
  createdAt: number;
  keepsAgentProcess: boolean;
}

export const ORG_ID = '7c60d51f-b44e-4682-87d6-449835ea4de6';
let logSeq = 0;

export function coderToken(): string {
  const alnum = (n: number) =>
    randomBytes(n * 2)
      .toString('base64')
      .replace(/[^a-zA-Z0-9]/g, '')
      .slice(0, n)
      .padEnd(n, 'x');
  return `${alnum(10)}-${alnum(22)}`;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function latestBuild(ws: WorkspaceRow): BuildRow {
  return ws.builds[ws.builds.length - 1]!;
}

export function workspaceStatus(b: BuildRow): string {
  switch (b.jobStatus) {
    case 'pending':
      return 'pending';
    case 'running':
      return b.transition === 'stop' ? 'stopping' : b.transition === 'delete' ? 'deleting' : 'starting';
    case 'succeeded':
      return b.transition === 'stop' ? 'stopped' : b.transition === 'delete' ? 'deleted' : 'running';
    default:
      return b.jobStatus;
  }
}

/** coderd's status rule (coder-api.md section 5), at `now`. */
export function agentStatus(a: AgentRow, now: number): string {
  if (a.alive) a.lastConnectedAt = now;
  if (a.firstConnectedAt === undefined) {
    if (a.connectionTimeoutSeconds > 0 && now - a.createdAt > a.connectionTimeoutSeconds * 1000) return 'timeout';
    return 'connecting';
  }
  if (a.disconnectedAt !== undefined && a.disconnectedAt >= (a.lastConnectedAt ?? 0)) return 'disconnected';
  if (now - (a.lastConnectedAt ?? 0) > INACTIVE_TIMEOUT_MS) return 'disconnected';
  return 'connected';
}

export function addLog(a: AgentRow, now: number, output: string, level = 'info'): AgentLog {
  const log = { id: ++logSeq, created_at: new Date(now).toISOString(), output, level, source_id: a.logSourceId };
  a.logs.push(log);
  return log;
}

/** One agent row (a sub-agent when `parentId` is set), created `created` and not yet connected. */
export function newAgentRow(ws: WorkspaceRow, spec: AgentSpec, parentId: string | null, resourceId: string, now: number): AgentRow {
  return {
    id: randomUUID(),
    parentId,
    name: spec.name,
    resourceId,
    workspaceId: ws.id,
    lifecycle: 'created',
    createdAt: now,
    updatedAt: now,
    alive: false,
    connectionTimeoutSeconds: spec.connectionTimeoutSeconds ?? 120,
    os: spec.os ?? 'linux',
    arch: spec.arch ?? 'amd64',
    scripts: spec.scripts ?? [],
    logs: [],
    logSourceId: randomUUID(),
  };
}

export function newAgentRows(ws: WorkspaceRow, resourceId: string, now: number): AgentRow[] {
  const rows: AgentRow[] = [];
  const make = (spec: AgentSpec, parentId: string | null) => {
    const row = newAgentRow(ws, spec, parentId, resourceId, now);
    rows.push(row);
    for (const child of spec.children ?? []) make(child, row.id);
  };
  for (const spec of ws.agentSpecs) make(spec, null);
  return rows;
}

export interface RenderOptions {
  now: number;
  url: string;
  extraFields: boolean;
}

const future = (o: RenderOptions, obj: Record<string, unknown>) =>
  o.extraFields ? { ...obj, x_future_field: { nested: [1, 'two', null] }, x_future_enum: 'quantum' } : obj;

export function renderAgent(a: AgentRow, o: RenderOptions): Record<string, unknown> {
  const status = agentStatus(a, o.now);
  return future(o, {
    id: a.id,
    parent_id: a.parentId,
    created_at: iso(a.createdAt),
    updated_at: iso(a.updatedAt),
    first_connected_at: iso(a.firstConnectedAt) ?? undefined,
    last_connected_at: iso(a.lastConnectedAt) ?? undefined,
    disconnected_at: iso(a.disconnectedAt) ?? undefined,
    started_at: iso(a.startedAt) ?? undefined,
    ready_at: iso(a.readyAt) ?? undefined,
    status,
    lifecycle_state: a.lifecycle,
    name: a.name,
    resource_id: a.resourceId,
    instance_id: '',
    architecture: a.arch,
    environment_variables: {},
    operating_system: a.os,
    logs_length: a.logs.length,
    logs_overflowed: false,
    directory: '/home/coder',
    expanded_directory: '/home/coder',
    version: 'v2.24.1',
    api_version: '2.6',
    apps: [],
    latency: {},
    connection_timeout_seconds: a.connectionTimeoutSeconds,
    troubleshooting_url: `${o.url}/docs/admin/templates/troubleshooting`,
    subsystems: [],
    health: a.healthReason
      ? { healthy: false, reason: a.healthReason }
      : status === 'connected'
        ? { healthy: true }
        : { healthy: false, reason: `agent is ${status}` },
    display_apps: ['vscode', 'web_terminal', 'ssh_helper'],
    log_sources: [
      {
        workspace_agent_id: a.id,
        id: a.logSourceId,
        created_at: iso(a.createdAt),
        display_name: 'Startup Script',
        icon: '/emojis/25b6.png',
      },
    ],
    scripts: a.scripts.map((s) => ({
      log_source_id: a.logSourceId,
      log_path: '',
      script: 'echo hi',
      cron: '',
      run_on_start: true,
      run_on_stop: false,
      start_blocks_login: s.start_blocks_login,
      timeout: 0,
      display_name: s.display_name,
      id: randomUUID(),
    })),
    startup_script_behavior: o.extraFields ? 'eventual' : a.scripts.some((s) => s.start_blocks_login) ? 'blocking' : 'non-blocking',
  });
}

export function renderBuild(ws: WorkspaceRow, b: BuildRow, o: RenderOptions): Record<string, unknown> {
  return future(o, {
    id: b.id,
    created_at: iso(b.createdAt),
    updated_at: iso(b.completedAt ?? b.startedAt ?? b.createdAt),
    workspace_id: ws.id,
    workspace_name: ws.name,
    workspace_owner_id: ws.owner.id,
    workspace_owner_name: ws.owner.username,
    template_version_id: ws.templateId,
    template_version_name: 'v1',
    build_number: b.buildNumber,
    transition: b.transition,
    initiator_id: ws.owner.id,
    initiator_name: b.initiator,
    job: {
      id: b.jobId,
      created_at: iso(b.createdAt),
      started_at: iso(b.startedAt) ?? undefined,
      completed_at: iso(b.completedAt) ?? undefined,
      status: b.jobStatus,
      error: b.jobError,
      file_id: randomUUID(),
      tags: { scope: 'organization' },
      queue_position: b.jobStatus === 'pending' ? 1 : 0,
      queue_size: b.jobStatus === 'pending' ? 1 : 0,
      organization_id: ORG_ID,
    },
    reason: 'initiator',
    resources:
      b.agents.length === 0 && b.transition !== 'start'
        ? []
        : [
            {
              id: b.resourceId,
              created_at: iso(b.createdAt),
              job_id: b.jobId,
              workspace_transition: b.transition,
              type: 'docker_container',
              name: 'workspace',
              hide: false,
              icon: '',
              metadata: [],
              daily_cost: 0,
              agents: b.agents.map((a) => renderAgent(a, o)),
            },
          ],
    status: workspaceStatus(b),
    daily_cost: 0,
  });
}

export function renderWorkspace(ws: WorkspaceRow, o: RenderOptions): Record<string, unknown> {
  const b = latestBuild(ws);
  const failing = b.agents.filter((a) => agentStatus(a, o.now) !== 'connected' && b.transition === 'start').map((a) => a.id);
  return future(o, {
    id: ws.id,
    created_at: iso(ws.createdAt),
    updated_at: iso(b.createdAt),
    owner_id: ws.owner.id,
    owner_name: ws.owner.username,
    owner_avatar_url: '',
    organization_id: ORG_ID,
    organization_name: 'coder',
    template_id: ws.templateId,
    template_name: ws.template,
    template_display_name: ws.template[0]!.toUpperCase() + ws.template.slice(1),
    template_icon: '/icon/docker.png',
    template_allow_user_cancel_workspace_jobs: true,
    template_active_version_id: ws.templateId,
    template_require_active_version: false,
    latest_build: renderBuild(ws, b, o),
    latest_app_status: null,
    outdated: false,
    name: ws.name,
    autostart_schedule: null,
    ttl_ms: null,
    last_used_at: iso(b.createdAt),
    deleting_at: null,
    dormant_at: null,
    health: { healthy: failing.length === 0, failing_agents: failing },
    automatic_updates: o.extraFields ? 'sometimes' : 'never',
    allow_renames: false,
    favorite: false,
    next_start_at: null,
  });
}
