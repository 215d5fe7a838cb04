/**
 * The plain-text block of Copy Diagnostics, for a bug report: versions, the workspace and its
 * build, the agents with their states and times, the agent-ID history, the last reconnect
 * decisions, the stream rungs and what the doctor found. Pure. It is made from names, IDs, states
 * and times only; the session token and the header command's values are never passed in, and
 * every secret the caller knows is cut out of the result as well, in case one hides in an error
 * text or a log line.
 */
import { redact } from '../common/log';

export interface ReportAgent {
  id: string;
  name: string;
  parentId: string | null;
  status: string;
  lifecycle: string;
  version: string;
  times: Readonly<Record<string, string | null | undefined>>;
}

export interface DiagnosticsInput {
  generatedAt: number;
  extension: { id: string; version: string };
  editor: { appName: string; version: string; remoteName?: string };
  deployment: { url: string; serverVersion?: string; connection: string; streams: string; repairRoutes: string };
  workspace?: {
    id: string;
    name: string;
    owner: string;
    template: string;
    status: string;
    rung?: string;
    build: { id: string; number: number; transition: string; jobStatus: string; error?: string | null; createdAt: string };
    stuckBuilds: readonly number[];
  };
  /** The agent the report is about, shown first. */
  focusAgentId?: string;
  agents: readonly ReportAgent[];
  idHistory: readonly { oldId: string; newId: string; buildNumber: number; at: number; cause?: string | null }[];
  decisions: readonly { at: number; kind: string; reason: string }[];
  diagnoses: readonly { code: string; cause: string; fix: string }[];
  /** Texts that must not appear (the session token, header values): cut out if they do. */
  secrets: readonly string[];
}

const MAX_DECISIONS = 20;

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

function oneLine(s: string): string {
  return s.replace(/\s*\r?\n\s*/g, ' ').trim();
}

export function diagnosticsReport(i: DiagnosticsInput): string {
  const out: string[] = [];
  const kv = (k: string, v: string | number | null | undefined) => {
    if (v !== undefined && v !== null && v !== '') out.push(`  ${k}: ${oneLine(String(v))}`);
  };
  out.push(`Coder Workspace Status diagnostics (${iso(i.generatedAt)})`);
  out.push('Versions');
  kv('extension', `${i.extension.id} ${i.extension.version}`);
  kv('editor', `${i.editor.appName} ${i.editor.version}${i.editor.remoteName ? ` (remote: ${i.editor.remoteName})` : ''}`);
  kv('deployment', `${i.deployment.url} ${i.deployment.serverVersion ?? '(version unknown)'}`);
  out.push('Connection');
  kv('state', i.deployment.connection);
  kv('stream rungs', i.deployment.streams);
  kv('repair routes', i.deployment.repairRoutes);
  const w = i.workspace;
  if (w) {
    out.push('Workspace');
    kv('name', `${w.owner}/${w.name} (${w.id})`);
    kv('template', w.template);
    kv('status', w.status);
    kv('fed by', w.rung);
    const b = w.build;
    kv('build', `#${b.number} ${b.id} ${b.transition}, job ${b.jobStatus}, created ${b.createdAt}`);
    kv('build error', b.error);
    kv('earlier stuck builds', w.stuckBuilds.length ? w.stuckBuilds.map((n) => `#${n}`).join(', ') : 'none');
  }
  const agents = [...i.agents].sort((a, b) => Number(b.id === i.focusAgentId) - Number(a.id === i.focusAgentId));
  out.push('Agents');
  if (agents.length === 0) out.push('  none');
  for (const a of agents) {
    out.push(
      `  ${a.name}${a.id === i.focusAgentId ? ' (this one)' : ''}: ${a.id}${a.parentId ? ` parent ${a.parentId}` : ''}, ${a.status}, ${a.lifecycle}, ${a.version || 'version ?'}`,
    );
    for (const [k, v] of Object.entries(a.times)) if (v) out.push(`    ${k}: ${v}`);
  }
  out.push('Agent ID history');
  if (i.idHistory.length === 0) out.push('  none seen');
  for (const h of i.idHistory)
    out.push(`  ${iso(h.at)} build #${h.buildNumber}: ${h.oldId} -> ${h.newId}${h.cause ? ` (${oneLine(h.cause)})` : ''}`);
  out.push('Last reconnect decisions');
  const decisions = i.decisions.slice(-MAX_DECISIONS);
  if (decisions.length === 0) out.push('  none');
  for (const d of decisions) out.push(`  ${iso(d.at)} ${d.kind}: ${oneLine(d.reason)}`);
  out.push('Diagnosis');
  if (i.diagnoses.length === 0) out.push('  nothing found');
  for (const d of i.diagnoses) out.push(`  ${d.code}: ${oneLine(d.cause)} Fix: ${oneLine(d.fix)}`);
  return redact(out.join('\n'), i.secrets) + '\n';
}
