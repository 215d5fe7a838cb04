/**
 * Which agent this window is bound to, for now from `coderStatus.binding` or the workspace
 * environment (CODER_WORKSPACE_NAME / CODER_WORKSPACE_AGENT_NAME), resolved against the open
 * deployments by name, so that it follows agent-ID changes. Tells the sync which workspace and
 * agent to keep live.
 */
import { Emitter, type Disposable } from '../../common/disposable';
import { sameAgentOf } from '../../model/agentKey';
import { bindingFromAuthority, bindingFromEnv, parseBindingSetting, type BindingTarget } from '../../model/binding';
import { remoteAuthority } from './remoteSession';
import type { AgentRef } from './repairs';
import type { Ctx } from '../ctx';
import type { DeploymentSession } from '../deployments/deploymentSession';
import type { OpenDeployments } from '../deployments/openDeployments';
import type { AgentNode } from '../views/treeNodes';

export interface Bound {
  session: DeploymentSession;
  workspaceId: string;
  /** undefined while the workspace has no agent to pick (stopped, or several and no name given). */
  agentName: string | undefined;
  parentName: string | null;
}

export class WindowBinding implements Disposable {
  private readonly changed = new Emitter<void>();
  readonly onDidChange = this.changed.event;
  private target: BindingTarget | undefined;
  private current: Bound | undefined;
  private lastLogged = '';

  constructor(
    private readonly ctx: Ctx,
    private readonly sessions: OpenDeployments,
  ) {
    this.target = this.readTarget();
    ctx.pushCleanup(
      ctx.config.onDidChange((affects) => {
        if (!affects('binding')) return;
        this.target = this.readTarget();
        this.resolve();
      }),
    );
    ctx.pushCleanup(sessions.onDidChangeSessions(() => this.resolve()));
    ctx.pushCleanup(sessions.onDidChange(() => this.resolve()));
  }

  get bound(): Bound | undefined {
    return this.current;
  }

  /** The bound agent, once the binding names one. */
  get agent(): AgentRef | undefined {
    return refOf(this.current);
  }

  isNode(node: AgentNode): boolean {
    return sameAgentOf(this.agent, node);
  }

  /** Reads the binding again (after the user picked or cleared one). */
  reload(): void {
    this.target = this.readTarget();
    this.resolve();
    this.changed.fire();
  }

  /** In order: the setting, the Coder Remote-SSH window, the workspace environment, a picked agent. */
  private readTarget(): BindingTarget | undefined {
    const setting = this.ctx.config.binding;
    if (setting) {
      const parsed = parseBindingSetting(setting);
      if (parsed && !('error' in parsed)) return parsed;
      this.ctx.log.warn(`coderStatus.binding: ${parsed && 'error' in parsed ? parsed.error : 'unreadable'}; ignored`);
    }
    const picked = this.ctx.state.pickedBinding;
    const fromPick: BindingTarget | undefined = picked
      ? { owner: picked.owner, workspace: picked.workspace, agent: picked.agent, source: 'picked' }
      : undefined;
    return bindingFromAuthority(remoteAuthority()) ?? bindingFromEnv(process.env) ?? fromPick;
  }

  /** Looks the target up in the open deployments; cheap, so it runs on every model change. */
  resolve(): void {
    const next = this.target ? this.find(this.target) : undefined;
    const same = sameBinding(next, this.current);
    this.logState(next);
    if (same) return;
    const before = this.current;
    this.current = next;
    if (before && before.session !== next?.session) before.session.sync.setBoundWorkspace(undefined);
    if (next) {
      next.session.sync.setBoundWorkspace(next.workspaceId);
      next.session.sync.setBoundAgentName(next.workspaceId, next.agentName);
    }
    this.changed.fire();
  }

  private find(t: BindingTarget): Bound | undefined {
    for (const session of this.sessions.list()) {
      const owner = t.owner && t.owner !== 'me' ? t.owner : session.username;
      const ws = session.fleet.workspaces().find((w) => w.name === t.workspace && (owner === undefined || w.owner_name === owner));
      if (!ws) continue;
      const top = session.fleet.topLevelAgents(ws.id);
      if (!t.agent) {
        const only = top.length === 1 ? top[0] : undefined;
        return { session, workspaceId: ws.id, agentName: only?.name, parentName: null };
      }
      if (top.some((a) => a.name === t.agent)) return { session, workspaceId: ws.id, agentName: t.agent, parentName: null };
      // A dev-container sub-agent is bound by its own name; its parent is found through the fleet.
      const sub = session.fleet.agentsOf(ws.id).find((a) => a.name === t.agent && a.parent_id);
      const parent = sub?.parent_id ? (session.fleet.agentById(sub.parent_id)?.agent.name ?? null) : null;
      return { session, workspaceId: ws.id, agentName: t.agent, parentName: parent };
    }
    return undefined;
  }

  private logState(b: Bound | undefined): void {
    const t = this.target;
    const text = !t
      ? 'not bound to an agent'
      : b
        ? `bound to ${t.owner ?? 'me'}/${t.workspace}${b.agentName ? `.${b.agentName}` : ' (no agent to pick yet)'} in ${b.session.url} (from ${t.source})`
        : `binding ${t.owner ?? 'me'}/${t.workspace}${t.agent ? `.${t.agent}` : ''} (from ${t.source}) not found in the open deployments yet`;
    if (text === this.lastLogged) return;
    this.lastLogged = text;
    this.ctx.log.info(text);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function refOf(b: Bound | undefined): AgentRef | undefined {
  return b?.agentName ? { session: b.session, workspaceId: b.workspaceId, name: b.agentName, parentName: b.parentName } : undefined;
}

/** Same deployment and workspace, and the same agent (or no agent picked in either). */
function sameBinding(a: Bound | undefined, b: Bound | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.agentName === undefined || b.agentName === undefined) {
    return a.agentName === b.agentName && a.session === b.session && a.workspaceId === b.workspaceId;
  }
  return sameAgentOf(refOf(a), refOf(b));
}
