/**
 * Wire shapes of the Coder API (codersdk), as zod schemas.
 *
 * Tolerant reader: unknown fields are dropped, enum-like fields are plain strings so that a
 * value added by a newer Coder release is kept (and shown as "unknown: <value>") instead of
 * failing the parse. Fields this extension does not decide on get a fallback (`.catch`) so a
 * wrong type there does not throw away an otherwise good workspace. Identity fields (ids,
 * names, lifecycle, status) are required: without them a frame is rejected as a whole.
 */
import * as z from 'zod';

export const AGENT_STATUSES = ['connecting', 'connected', 'disconnected', 'timeout'] as const;
export const AGENT_LIFECYCLES = [
  'created',
  'starting',
  'start_timeout',
  'start_error',
  'ready',
  'shutting_down',
  'shutdown_timeout',
  'shutdown_error',
  'off',
] as const;
export const WORKSPACE_STATUSES = [
  'pending',
  'starting',
  'running',
  'stopping',
  'stopped',
  'failed',
  'canceling',
  'canceled',
  'deleting',
  'deleted',
] as const;
export const TRANSITIONS = ['start', 'stop', 'delete'] as const;
export const JOB_STATUSES = ['pending', 'running', 'succeeded', 'canceling', 'canceled', 'failed', 'unknown'] as const;

export type AgentStatus = (typeof AGENT_STATUSES)[number];
export type AgentLifecycle = (typeof AGENT_LIFECYCLES)[number];
export type WorkspaceStatus = (typeof WORKSPACE_STATUSES)[number];
export type Transition = (typeof TRANSITIONS)[number];
export type JobStatus = (typeof JOB_STATUSES)[number];

/** True when `value` is one of the known members; unknown values stay strings. */
export function isKnown<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

const time = z.string().nullish().catch(null);
const str = z.string().catch('');
const optStr = z.string().nullish().catch(null);
const bool = z.boolean().catch(false);
const num = z.number().catch(0);

export const AgentScriptSchema = z.object({
  id: optStr,
  display_name: str,
  log_source_id: optStr,
  run_on_start: bool,
  run_on_stop: bool,
  start_blocks_login: bool,
  timeout: num,
  /** Sent once the script has run, by servers that report outcomes. */
  exit_code: z.number().nullish().catch(null),
  /** ok, exit_failure, timed_out, pipes_left_open (unknown values kept), where sent. */
  status: optStr,
});

export const AgentHealthSchema = z.object({ healthy: z.boolean().catch(true), reason: optStr }).catch({ healthy: true, reason: null });

export const WorkspaceAgentSchema = z.object({
  id: z.string().min(1),
  parent_id: z.string().nullish().catch(null),
  name: z.string(),
  resource_id: optStr,
  status: z.string(),
  lifecycle_state: z.string(),
  created_at: str,
  updated_at: time,
  first_connected_at: time,
  last_connected_at: time,
  disconnected_at: time,
  started_at: time,
  ready_at: time,
  connection_timeout_seconds: num,
  troubleshooting_url: optStr,
  version: str,
  api_version: str,
  operating_system: str,
  architecture: str,
  directory: optStr,
  expanded_directory: optStr,
  health: AgentHealthSchema,
  scripts: z
    .array(AgentScriptSchema)
    .nullish()
    .catch([])
    .transform((s) => s ?? []),
  startup_script_behavior: optStr,
  logs_length: num,
  logs_overflowed: bool,
});

export const WorkspaceResourceSchema = z.object({
  id: str,
  job_id: str,
  workspace_transition: str,
  type: str,
  name: str,
  hide: bool,
  agents: z
    .array(WorkspaceAgentSchema)
    .nullish()
    .transform((a) => a ?? []),
});

export const ProvisionerJobSchema = z.object({
  id: str,
  status: z.string(),
  error: optStr,
  started_at: time,
  completed_at: time,
  queue_position: num,
});

export const WorkspaceBuildSchema = z.object({
  id: z.string(),
  workspace_id: str,
  build_number: z.number(),
  transition: z.string(),
  status: z.string(),
  reason: str,
  initiator_name: str,
  created_at: str,
  job: ProvisionerJobSchema,
  resources: z
    .array(WorkspaceResourceSchema)
    .nullish()
    .transform((r) => r ?? []),
  template_version_id: str,
  template_version_name: str,
});

export const WorkspaceSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  owner_id: str,
  owner_name: z.string(),
  organization_id: str,
  template_id: str,
  template_name: str,
  template_display_name: str,
  template_icon: str,
  latest_build: WorkspaceBuildSchema,
  outdated: bool,
  health: z
    .object({ healthy: z.boolean().catch(true), failing_agents: z.array(z.string()).nullish().catch([]) })
    .catch({ healthy: true, failing_agents: [] }),
  last_used_at: time,
  deleting_at: time,
  dormant_at: time,
  automatic_updates: str,
  favorite: bool,
});

export const WorkspacesResponseSchema = z.object({
  workspaces: z.array(WorkspaceSchema),
  count: z.number(),
});

export const UserSchema = z.object({
  id: z.string(),
  username: z.string(),
  email: str,
  name: str,
  status: str,
  roles: z
    .array(z.object({ name: str, display_name: str }))
    .nullish()
    .catch([]),
});

export const BuildInfoSchema = z.object({
  external_url: str,
  version: z.string(),
  dashboard_url: str,
  agent_api_version: str,
  deployment_id: str,
});

/** codersdk.Response: the body of every error answer. */
export const ErrorResponseSchema = z.object({
  message: z.string(),
  detail: z.string().optional().catch(undefined),
  validations: z
    .array(z.object({ field: z.string(), detail: z.string() }))
    .optional()
    .catch(undefined),
});

export const WatchErrorSchema = z.object({
  code: z.number(),
  retryable: z.boolean().catch(false),
  message: str,
  details: optStr,
});

/** One frame of /workspaces/{id}/agent-connection-watch. */
export const ConnectionWatchEventSchema = z.object({
  error: WatchErrorSchema.nullish(),
  build_update: z.object({ transition: z.string(), job_status: z.string() }).nullish(),
  agent_update: z.object({ lifecycle: z.string(), id: z.string().min(1) }).nullish(),
});

/** Envelope of watch-ws frames and SSE events (codersdk.ServerSentEvent). */
export const ServerSentEventSchema = z.object({
  type: z.string(),
  data: z.unknown(),
});

export const WorkspaceAgentLogSchema = z.object({
  id: z.number(),
  created_at: str,
  output: z.string(),
  level: z.string().catch('info'),
  source_id: str,
});
export const WorkspaceAgentLogsSchema = z.array(WorkspaceAgentLogSchema);

/** One line of a build's provisioner log (GET /workspacebuilds/{id}/logs). */
export const ProvisionerJobLogSchema = z.object({
  id: z.number(),
  created_at: str,
  log_source: str,
  log_level: z.string().catch('info'),
  stage: str,
  output: z.string().catch(''),
});
export const ProvisionerJobLogsSchema = z.array(ProvisionerJobLogSchema);

export type AgentScript = z.infer<typeof AgentScriptSchema>;
export type WorkspaceAgent = z.infer<typeof WorkspaceAgentSchema>;
export type WorkspaceResource = z.infer<typeof WorkspaceResourceSchema>;
export type WorkspaceBuild = z.infer<typeof WorkspaceBuildSchema>;
export type Workspace = z.infer<typeof WorkspaceSchema>;
export type WorkspacesResponse = z.infer<typeof WorkspacesResponseSchema>;
export type User = z.infer<typeof UserSchema>;
export type BuildInfo = z.infer<typeof BuildInfoSchema>;
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;
export type WatchError = z.infer<typeof WatchErrorSchema>;
export type ConnectionWatchEvent = z.infer<typeof ConnectionWatchEventSchema>;
export type ServerSentEvent = z.infer<typeof ServerSentEventSchema>;
export type WorkspaceAgentLog = z.infer<typeof WorkspaceAgentLogSchema>;
export type ProvisionerJobLog = z.infer<typeof ProvisionerJobLogSchema>;

/** WatchError codes of agent-connection-watch. */
export const WatchErrorCode = {
  TooManyAgents: 1,
  AgentNotFound: 2,
  NoAgents: 3,
  ServerShutdown: 4,
  Database: 5,
  Internal: 6,
} as const;

/** Every agent of a workspace's latest build, in resource order (sub-agents included). */
export function agentsOf(ws: Workspace): WorkspaceAgent[] {
  return ws.latest_build.resources.flatMap((r) => r.agents);
}

/** A parse that never throws: the value, or a short reason fit for a log line. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export function safeParse<T>(schema: z.ZodType<T>, input: unknown): Parsed<T> {
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  const first = r.error.issues[0];
  const where = first?.path.length ? first.path.join('.') : '(root)';
  return { ok: false, reason: `${where}: ${first?.message ?? 'invalid'}` };
}
