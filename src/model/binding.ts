/**
 * Which agent this window is bound to, where that comes from, and how the binding follows the
 * agent across rebuilds (every start build gives it a new ID). The rule: never report a binding
 * dead before it was looked up again by name (and parent) in the latest build.
 */
import { agentsOf, type Workspace, type WorkspaceAgent } from '../api/schemas';
import type { Clock } from '../common/clock';
import { parentNameAmong } from './agentKey';

export interface BindingTarget {
  /** null: the signed-in user. */
  owner: string | null;
  workspace: string;
  /** null: the workspace's only top-level agent. */
  agent: string | null;
  source: 'setting' | 'remote-authority' | 'environment' | 'picked';
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** `owner/workspace[.agent]` from the coderStatus.binding setting. */
export function parseBindingSetting(text: string): BindingTarget | { error: string } | undefined {
  const s = text.trim();
  if (!s) return undefined;
  const m = /^([^/\s]+)\/([^/\s.]+)(?:\.([^/\s.]+))?$/.exec(s);
  if (!m) return { error: `"${s}" is not owner/workspace or owner/workspace.agent` };
  return { owner: m[1] === 'me' ? null : m[1]!, workspace: m[2]!, agent: m[3] ?? null, source: 'setting' };
}

/** Inside a workspace the agent sets CODER_WORKSPACE_NAME and CODER_WORKSPACE_AGENT_NAME. */
export function bindingFromEnv(env: Record<string, string | undefined>): BindingTarget | undefined {
  const workspace = env['CODER_WORKSPACE_NAME']?.trim();
  if (!workspace) return undefined;
  return { owner: null, workspace, agent: env['CODER_WORKSPACE_AGENT_NAME']?.trim() || null, source: 'environment' };
}

export type AuthorityParse =
  | { kind: 'coder'; host: string | null; owner: string | null; workspace: string; agent: string | null }
  | { kind: 'not-coder' }
  | { kind: 'malformed'; reason: string };

/** "workspace[.agent]": more than one dot cannot be split safely. */
function splitWorkspaceAgent(part: string): { workspace: string; agent: string | null } | { reason: string } {
  const pieces = part.split('.');
  if (pieces.length > 2) return { reason: `"${part}" is ambiguous: workspace and agent share the "." separator` };
  const [workspace, agent] = pieces;
  if (!workspace || !NAME.test(workspace)) return { reason: `"${part}" has no workspace name` };
  if (agent !== undefined && !NAME.test(agent)) return { reason: `"${part}" has an empty or invalid agent name` };
  return { workspace, agent: agent ?? null };
}

/**
 * Reads a VS Code remote authority written by the Coder Remote extension or `coder config-ssh`
 * (coder-api.md section 7). The SSH host is the part after the last `ssh-remote+` (the remote
 * can be nested, e.g. a dev container opened over SSH); the deployment host may contain `--`
 * itself (punycode), so the name is split on `--` and read from the right.
 */
export function parseRemoteAuthority(authority: string): AuthorityParse {
  const marker = /(?:^|@|:\/\/)ssh-remote\+/g;
  let host: string | undefined;
  for (let m = marker.exec(authority); m; m = marker.exec(authority)) host = authority.slice(m.index + m[0].length);
  if (host === undefined) return { kind: 'not-coder' };
  host = host.split(/[/@]/)[0] ?? '';

  // coder config-ssh: coder.<workspace>[.<agent>]
  if (host.startsWith('coder.')) {
    const wa = splitWorkspaceAgent(host.slice('coder.'.length));
    return 'reason' in wa ? { kind: 'malformed', reason: wa.reason } : { kind: 'coder', host: null, owner: null, ...wa };
  }
  // Older releases: coder-vscode--<owner>--<workspace>[--<agent>]
  if (host.startsWith('coder-vscode--')) {
    const parts = host.slice('coder-vscode--'.length).split('--');
    if (parts.length < 2 || parts.length > 3 || parts.some((p) => !NAME.test(p))) {
      return { kind: 'malformed', reason: `"${host}" is not coder-vscode--<owner>--<workspace>[--<agent>]` };
    }
    return { kind: 'coder', host: null, owner: parts[0]!, workspace: parts[1]!, agent: parts[2] ?? null };
  }
  // Current releases: coder-<editor>.<safe host>--<owner>--<workspace>[.<agent>]
  const current = /^coder-([a-z0-9-]+)\.(.*)$/.exec(host);
  if (!current || current[1]!.includes('--')) return { kind: 'not-coder' };
  const parts = current[2]!.split('--');
  if (parts.length < 3) return { kind: 'malformed', reason: `"${host}" lacks the owner or the workspace` };
  const last = parts.pop()!;
  const owner = parts.pop()!;
  const deploymentHost = parts.join('--');
  if (!deploymentHost || !NAME.test(owner)) return { kind: 'malformed', reason: `"${host}" has an empty host or owner` };
  const wa = splitWorkspaceAgent(last);
  if ('reason' in wa) return { kind: 'malformed', reason: wa.reason };
  return { kind: 'coder', host: deploymentHost, owner, ...wa };
}

export function bindingFromAuthority(authority: string | undefined): BindingTarget | undefined {
  if (!authority) return undefined;
  const p = parseRemoteAuthority(authority);
  if (p.kind !== 'coder') return undefined;
  return { owner: p.owner, workspace: p.workspace, agent: p.agent, source: 'remote-authority' };
}

export type AgentLookup =
  | { kind: 'found'; agent: WorkspaceAgent }
  | { kind: 'ambiguous'; candidates: WorkspaceAgent[] }
  | { kind: 'not-found' }
  | { kind: 'no-agents' };

/** The agent by name (and parent name) in the latest build; no name: the only top-level agent. */
export function resolveAgent(ws: Workspace, want: { agent: string | null; parentName?: string | null }): AgentLookup {
  const agents = agentsOf(ws);
  if (agents.length === 0) return { kind: 'no-agents' };
  if (want.agent === null) {
    const top = agents.filter((a) => !a.parent_id);
    return top.length === 1 ? { kind: 'found', agent: top[0]! } : { kind: 'ambiguous', candidates: top };
  }
  const named = agents.filter(
    (a) => a.name === want.agent && (want.parentName === undefined || parentNameAmong(agents, a) === want.parentName),
  );
  if (named.length === 1) return { kind: 'found', agent: named[0]! };
  if (named.length > 1) {
    const top = named.filter((a) => !a.parent_id);
    return top.length === 1 ? { kind: 'found', agent: top[0]! } : { kind: 'ambiguous', candidates: named };
  }
  return { kind: 'not-found' };
}

export interface BoundAgent {
  workspaceId: string;
  workspaceName: string;
  owner: string;
  agentName: string;
  parentName: string | null;
  agentId: string;
}

export interface HistoryEntry {
  oldId: string;
  newId: string;
  buildNumber: number;
  at: number;
  cause: string;
}

export type BindingUpdate =
  | { kind: 'not-bound' }
  | { kind: 'unchanged' }
  | { kind: 'id-changed'; oldId: string; newId: string; buildNumber: number; entry: HistoryEntry }
  /** The latest build stops or deletes the workspace, or is still running: the agent is expected back. */
  | { kind: 'waiting'; buildNumber: number; reason: string }
  | { kind: 'no-agents'; buildNumber: number }
  | { kind: 'not-found'; buildNumber: number };

const HISTORY_CAP = 20;

/** Follows the bound agent across builds; pure, persisted by the UI through toJSON/fromJSON. */
export class BindingTracker {
  private current: BoundAgent | undefined;
  private entries: HistoryEntry[] = [];

  constructor(
    private readonly clock: Clock,
    initial?: BoundAgent,
  ) {
    this.current = initial;
  }

  get bound(): BoundAgent | undefined {
    return this.current;
  }

  /** Newest first, at most 20. */
  get history(): readonly HistoryEntry[] {
    return this.entries;
  }

  bind(b: BoundAgent | undefined): void {
    this.current = b;
  }

  /** Re-resolves the bound agent in the workspace's latest build. */
  onWorkspace(ws: Workspace, cause: string): BindingUpdate {
    const b = this.current;
    if (!b || ws.id !== b.workspaceId) return { kind: 'not-bound' };
    const build = ws.latest_build;
    const done = build.job.status === 'succeeded';
    if (build.transition !== 'start' || !done) {
      return {
        kind: 'waiting',
        buildNumber: build.build_number,
        reason: `build #${build.build_number} (${build.transition}) is ${build.job.status}`,
      };
    }
    const found = resolveAgent(ws, { agent: b.agentName, parentName: b.parentName });
    if (found.kind === 'no-agents') return { kind: 'no-agents', buildNumber: build.build_number };
    if (found.kind !== 'found') return { kind: 'not-found', buildNumber: build.build_number };
    if (found.agent.id === b.agentId) return { kind: 'unchanged' };
    const entry: HistoryEntry = { oldId: b.agentId, newId: found.agent.id, buildNumber: build.build_number, at: this.clock.now(), cause };
    this.current = { ...b, agentId: found.agent.id, workspaceName: ws.name, owner: ws.owner_name };
    this.entries = [entry, ...this.entries].slice(0, HISTORY_CAP);
    return { kind: 'id-changed', oldId: entry.oldId, newId: entry.newId, buildNumber: entry.buildNumber, entry };
  }

  toJSON(): { bound: BoundAgent | null; history: HistoryEntry[] } {
    return { bound: this.current ?? null, history: this.entries };
  }

  /** Tolerant of anything: what does not look like a saved tracker gives an empty one. */
  static fromJSON(json: unknown, clock: Clock): BindingTracker {
    const t = new BindingTracker(clock);
    if (!json || typeof json !== 'object') return t;
    const o = json as { bound?: unknown; history?: unknown };
    const b = o.bound as Partial<BoundAgent> | null | undefined;
    const str = (v: unknown) => typeof v === 'string' && v.length > 0;
    if (b && str(b.workspaceId) && str(b.workspaceName) && str(b.owner) && str(b.agentName) && str(b.agentId)) {
      t.current = {
        workspaceId: b.workspaceId!,
        workspaceName: b.workspaceName!,
        owner: b.owner!,
        agentName: b.agentName!,
        parentName: typeof b.parentName === 'string' ? b.parentName : null,
        agentId: b.agentId!,
      };
    }
    if (Array.isArray(o.history)) {
      t.entries = (o.history as unknown[])
        .filter((v): v is HistoryEntry => {
          const h = v as Partial<Record<keyof HistoryEntry, unknown>> | null;
          return (
            !!h &&
            str(h.oldId) &&
            str(h.newId) &&
            typeof h.buildNumber === 'number' &&
            typeof h.at === 'number' &&
            typeof h.cause === 'string'
          );
        })
        .slice(0, HISTORY_CAP);
    }
    return t;
  }
}
