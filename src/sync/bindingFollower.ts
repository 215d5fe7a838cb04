/**
 * Feeds the reconnect decision from the model, for one bound agent: re-resolves the
 * binding by name (and parent) on every change of its workspace, reports agent-ID changes and
 * empty builds, and passes the agent's latest row. Headless (no VS Code), so the same code runs
 * in the extension and in integration tests against the simulator.
 */
import { keyOfNamed, sameAgent, type AgentKey } from '../model/agentKey';
import type { Fleet } from '../model/fleet';
import type { BindingTracker } from '../model/binding';
import type { ReconnectEvent } from '../model/reconnect';
import type { Change } from '../model/types';

/** The agent to follow, by its key (it keeps its key across ID changes). */
export type FollowTarget = AgentKey;

export class BindingFollower {
  private target: FollowTarget | undefined;
  private firstLookupDone = false;

  constructor(
    private readonly fleet: Fleet,
    private readonly tracker: BindingTracker,
    private readonly reconnect: { dispatch(e: ReconnectEvent): void },
    private readonly onHistory: () => void = () => {},
  ) {}

  /**
   * Starts following `t` (or stops). The first lookup after activation only records an ID
   * change: the remote session was just opened by name, so it is on the new agent already.
   */
  follow(t: FollowTarget | undefined): void {
    this.target = t;
    if (!t) return;
    const ws = this.fleet.workspace(t.workspaceId);
    const agent = this.fleet.findAgent(t.workspaceId, t.name, t.parentName);
    if (!ws || !agent) return;
    const prev = this.tracker.bound;
    if (prev && sameAgent(keyOfNamed(prev), t)) {
      this.lookup(this.firstLookupDone ? 'build change' : 'changed before this window connected', this.firstLookupDone);
    } else {
      this.tracker.bind({
        workspaceId: ws.id,
        workspaceName: ws.name,
        owner: ws.owner_name,
        agentName: t.name,
        parentName: t.parentName,
        agentId: agent.id,
      });
      this.onHistory();
    }
    this.firstLookupDone = true;
    this.reconnect.dispatch({ type: 'agent-update', workspaceId: t.workspaceId, agent });
  }

  /** The model changed: re-resolve when the bound workspace is touched. Returns the bound agent's status. */
  onChanges(changes: readonly Change[]): string | undefined {
    const t = this.target;
    if (!t) return undefined;
    if (!changes.some((c) => 'workspaceId' in c && c.workspaceId === t.workspaceId)) return undefined;
    if (!this.tracker.bound) {
      this.follow(t);
    } else {
      this.lookup(changes.some((c) => c.kind === 'agent-id-changed') ? 'agent ID change' : 'build change', true);
    }
    const agent = this.fleet.findAgent(t.workspaceId, t.name, t.parentName);
    if (agent) this.reconnect.dispatch({ type: 'agent-update', workspaceId: t.workspaceId, agent });
    return agent?.status;
  }

  private lookup(cause: string, decide: boolean): void {
    const ws = this.target && this.fleet.workspace(this.target.workspaceId);
    if (!ws) return;
    const u = this.tracker.onWorkspace(ws, cause);
    if (u.kind === 'id-changed') {
      this.onHistory();
      if (decide)
        this.reconnect.dispatch({ type: 'id-changed', workspaceId: ws.id, oldId: u.oldId, newId: u.newId, buildNumber: u.buildNumber });
    } else if (u.kind === 'no-agents' && decide && !this.fleet.isPartial(ws.id)) {
      this.reconnect.dispatch({ type: 'no-agents', workspaceId: ws.id, buildNumber: u.buildNumber });
    }
  }
}
