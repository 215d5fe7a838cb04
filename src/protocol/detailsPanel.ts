/**
 * The messages between the details-panel host (extension side) and its webview (browser side).
 *
 * Both sides import this file and validate everything they receive with these schemas: the
 * webview is a separate, less trusted context (it renders names and log lines that come from
 * workspaces), so the host never acts on an unchecked message, and the webview never renders
 * an unchecked one. Sizes are bounded so that a hostile or buggy peer cannot make the other
 * side allocate without limit. Plain data only: no secrets ever cross this boundary.
 */
// zod/mini: the same validation as zod with a fraction of its size in the page's bundle.
import * as z from 'zod/mini';

/** Longest text accepted in one field; longer text is a protocol error, not truncated silently. */
export const MAX_TEXT = 64 * 1024;
export const MAX_SHORT = 1024;
/** Most log lines in one message; the host sends larger backlogs in several messages. */
export const MAX_LOG_LINES_PER_MESSAGE = 1000;

const short = z.string().check(z.maxLength(MAX_SHORT));
const text = z.string().check(z.maxLength(MAX_TEXT));
const time = z.number();
/** Epoch milliseconds, or null when unknown. */
const epoch = z.nullable(time);
const count = z.int().check(z.nonnegative());

export const SEVERITIES = ['ok', 'progress', 'warning', 'error', 'off'] as const;

export const TimelineEntrySchema = z.object({
  /** Lifecycle state as the server names it (unknown values are kept). */
  state: short,
  at: time,
  /** "server": from the agent row's timestamps; "observed": when this extension saw it. */
  source: z.enum(['server', 'observed']),
});

export const IdChangeViewSchema = z.object({
  oldId: short,
  newId: short,
  buildNumber: count,
  at: time,
  cause: z.nullable(short),
});

export const ScriptViewSchema = z.object({
  name: short,
  runOnStart: z.boolean(),
  runOnStop: z.boolean(),
  startBlocksLogin: z.boolean(),
  timeoutSeconds: z.number().check(z.nonnegative()),
});

export const ActionsViewSchema = z.object({
  replay: z.boolean(),
  reinitialize: z.boolean(),
  restart: z.boolean(),
  reconnect: z.boolean(),
  copyDiagnostics: z.boolean(),
});

/** One finding of the doctor, already worded (and localized) by the host. */
export const DiagnosisViewSchema = z.object({
  code: short,
  cause: text,
  fix: text,
  /** The last lines of the log that goes with it. */
  logLines: z.array(text).check(z.maxLength(50)),
  link: z.nullable(short),
});

/** The dev container a sub-agent runs in (absent for other agents). */
export const DevcontainerViewSchema = z.object({
  name: short,
  /** As the server names it (unknown values are kept). */
  status: short,
  severity: z.enum(SEVERITIES),
  /** "running", "running, configuration changed", ... */
  label: short,
  dirty: z.boolean(),
  workspaceFolder: text,
  configPath: text,
  container: z.nullable(short),
  error: z.nullable(text),
});

/** Everything the panel shows about one agent, already decided by the host (no logic in the page). */
export const AgentDetailsViewSchema = z.object({
  deploymentUrl: short,
  workspaceId: short,
  workspaceName: short,
  ownerName: short,
  agentId: short,
  agentName: short,
  parentName: z.nullable(short),
  /** Whether this window is bound to the agent. */
  bound: z.boolean(),
  status: short,
  lifecycle: short,
  severity: z.enum(SEVERITIES),
  /** Classification label, e.g. "starting 1m 12s". */
  label: short,
  detail: z.nullable(text),
  stuck: z.boolean(),
  /** How the deployment connection is doing: "live", "offline since ...", "signed out". */
  connection: z.object({
    kind: z.enum(['idle', 'connecting', 'live', 'offline', 'signed-out']),
    since: epoch,
    error: z.nullable(text),
  }),
  build: z.object({
    number: count,
    transition: short,
    jobStatus: short,
  }),
  version: short,
  apiVersion: short,
  os: short,
  arch: short,
  directory: z.nullable(text),
  health: z.object({ healthy: z.boolean(), reason: z.nullable(text) }),
  troubleshootingUrl: z.nullable(text),
  times: z.object({
    createdAt: epoch,
    firstConnectedAt: epoch,
    lastConnectedAt: epoch,
    disconnectedAt: epoch,
    startedAt: epoch,
    readyAt: epoch,
  }),
  timeline: z.array(TimelineEntrySchema).check(z.maxLength(200)),
  idHistory: z.array(IdChangeViewSchema).check(z.maxLength(100)),
  scripts: z.array(ScriptViewSchema).check(z.maxLength(200)),
  /** What the doctor found, most likely cause first; empty when nothing is wrong. */
  diagnoses: z.array(DiagnosisViewSchema).check(z.maxLength(10)),
  actions: ActionsViewSchema,
  devcontainer: z.optional(z.nullable(DevcontainerViewSchema)),
  /** When the host produced this view (for "as of" display when the connection is down). */
  asOf: time,
});

/**
 * Every text of the page, localized by the host (the page has no text of its own). `{0}`, `{1}`
 * are filled in by the page with values from the view, in that order.
 */
export const STRING_KEYS = [
  'loading',
  'actionsLabel',
  'replayLabel',
  'replayTitle',
  'reinitializeLabel',
  'reinitializeTitle',
  'restartLabel',
  'restartTitle',
  'reconnectLabel',
  'reconnectTitle',
  'copyDiagnosticsLabel',
  'copyDiagnosticsTitle',
  'diagnosisHeading',
  'offlineSince',
  'offline',
  'signedOut',
  'connecting',
  'idle',
  'statusTitle',
  'boundTag',
  'stuckTag',
  'subtitle',
  'agentHeading',
  'agentId',
  'lifecycle',
  'status',
  'build',
  'buildValue',
  'version',
  'versionWithApi',
  'unknownVersion',
  'osArch',
  'health',
  'healthy',
  'unhealthy',
  'unhealthyBecause',
  'directory',
  'created',
  'firstConnected',
  'lastConnected',
  'disconnected',
  'started',
  'ready',
  'troubleshooting',
  'timelineHeading',
  'timelineLabel',
  'seenHere',
  'seenHereTitle',
  'noTransitions',
  'historyHeading',
  'historyLabel',
  'oldId',
  'newId',
  'when',
  'cause',
  'noIdChanges',
  'scriptsHeading',
  'scriptsLabel',
  'script',
  'onStart',
  'onStop',
  'blocksLogin',
  'timeout',
  'yes',
  'no',
  'noTimeout',
  'noScripts',
  'unnamedScript',
  'seconds',
  'minutesSeconds',
  'hoursMinutes',
  'logsHeading',
  'logsLabel',
  'logsFollowing',
  'logsEnded',
  'logsUnavailable',
  'logsError',
  'devcontainer',
  'devcontainerFolder',
  'devcontainerConfig',
  'devcontainerContainer',
  'devcontainerError',
] as const;

export type StringKey = (typeof STRING_KEYS)[number];

export const DetailsStringsSchema = z.object(Object.fromEntries(STRING_KEYS.map((k) => [k, short])) as Record<StringKey, typeof short>);

/**
 * Which agent a panel shows, as VS Code keeps it for the panel across a window reload: by name
 * (and parent name) in its workspace, never by agent ID, so a restored panel shows the agent of
 * the latest build even when a rebuild gave it a new ID meanwhile.
 */
export const DetailsPanelStateSchema = z.object({
  deploymentUrl: short,
  workspaceId: short,
  agentName: short,
  parentName: z.nullable(short),
});

export const LogLineSchema = z.object({
  id: z.int(),
  at: epoch,
  level: short,
  output: text,
  source: z.nullable(short),
});

export const LogStatusSchema = z.enum(['following', 'ended', 'unavailable', 'error']);

/** Host -> webview. */
export const HostMessageSchema = z.discriminatedUnion('type', [
  /** First answer to `ready`: the page's texts, and what it keeps for VS Code to restore the panel after a reload. */
  z.object({ type: z.literal('init'), strings: DetailsStringsSchema, panelState: DetailsPanelStateSchema }),
  z.object({ type: z.literal('state'), agent: AgentDetailsViewSchema }),
  /** No agent to show (it left the fleet, or the deployment was signed out). */
  z.object({ type: z.literal('gone'), reason: short }),
  /** `reset`: the lines replace what is shown (a new agent ID, or a fresh backlog). */
  z.object({
    type: z.literal('logs'),
    reset: z.boolean(),
    lines: z.array(LogLineSchema).check(z.maxLength(MAX_LOG_LINES_PER_MESSAGE)),
  }),
  z.object({ type: z.literal('logStatus'), status: LogStatusSchema, message: z.nullable(short) }),
  /** The outcome of a button, so the page can re-enable it and say what happened. */
  z.object({
    type: z.literal('actionDone'),
    action: z.enum(['replay', 'reinitialize', 'restart', 'reconnect', 'copyDiagnostics']),
    ok: z.boolean(),
  }),
]);

export const ACTIONS = ['replay', 'reinitialize', 'restart', 'reconnect', 'copyDiagnostics'] as const;

/** Webview -> host. */
export const WebviewMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('action'), action: z.enum(ACTIONS) }),
  /** The page dropped a message that failed validation; the reason names a path, never a value. */
  z.object({ type: z.literal('rejected'), reason: short }),
]);

export type Severity = (typeof SEVERITIES)[number];
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;
export type IdChangeView = z.infer<typeof IdChangeViewSchema>;
export type ScriptView = z.infer<typeof ScriptViewSchema>;
export type ActionsView = z.infer<typeof ActionsViewSchema>;
export type DevcontainerView = z.infer<typeof DevcontainerViewSchema>;
export type DiagnosisView = z.infer<typeof DiagnosisViewSchema>;
export type AgentDetailsView = z.infer<typeof AgentDetailsViewSchema>;
export type DetailsPanelState = z.infer<typeof DetailsPanelStateSchema>;
export type DetailsStrings = z.infer<typeof DetailsStringsSchema>;
export type LogLine = z.infer<typeof LogLineSchema>;
export type LogStatus = z.infer<typeof LogStatusSchema>;
export type HostMessage = z.infer<typeof HostMessageSchema>;
export type WebviewMessage = z.infer<typeof WebviewMessageSchema>;
export type DetailsAction = (typeof ACTIONS)[number];

export type Checked<T> = { ok: true; message: T } | { ok: false; reason: string };

/**
 * Validates one received message. The reason names the failing path only, never the
 * offending value, so it is safe to log whatever the peer sent.
 */
function check<T>(schema: z.ZodMiniType<T>, input: unknown): Checked<T> {
  // postMessage delivers structured clones, which are plain objects; anything else was not
  // sent by the peer (and zod would read inherited properties as if they were the message's).
  if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== Object.prototype) {
    return { ok: false, reason: '(root): not a plain object' };
  }
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, message: r.data };
  const first = r.error.issues[0];
  const where = first?.path.length ? first.path.map(String).join('.') : '(root)';
  return { ok: false, reason: `${where}: ${first?.code ?? 'invalid'}` };
}

export function parseHostMessage(input: unknown): Checked<HostMessage> {
  return check(HostMessageSchema, input);
}

export function parseWebviewMessage(input: unknown): Checked<WebviewMessage> {
  return check(WebviewMessageSchema, input);
}

/** The state VS Code hands back for a panel to restore: written by the page, so checked like a message. */
export function parsePanelState(input: unknown): Checked<DetailsPanelState> {
  return check(DetailsPanelStateSchema, input);
}

/** Cuts text to a field's limit so that one oversized value cannot void a whole message. */
export function clampText(value: string, max: number = MAX_SHORT): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}\u2026`;
}

/** Splits a long backlog into messages the schema accepts. The first one carries `reset`. */
export function logMessages(lines: readonly LogLine[], reset: boolean): HostMessage[] {
  const out: HostMessage[] = [];
  for (let i = 0; i < lines.length; i += MAX_LOG_LINES_PER_MESSAGE) {
    out.push({ type: 'logs', reset: reset && i === 0, lines: lines.slice(i, i + MAX_LOG_LINES_PER_MESSAGE) });
  }
  if (out.length === 0 && reset) out.push({ type: 'logs', reset: true, lines: [] });
  return out;
}
