/**
 * The tree's elements. One object per deployment, workspace and agent for as long as it is
 * shown, so that `onDidChangeTreeData` can be fired with exactly the nodes that changed. An
 * agent node is keyed by workspace + parent name + agent name, not by agent ID: a rebuild gives
 * the agent a new ID but it stays the same row (same expansion, same selection).
 */
import type { WorkspaceAgent } from '../../api/schemas';
import type { DeploymentSession } from '../deployments/deploymentSession';

export interface DeploymentNode {
  readonly kind: 'deployment';
  readonly session: DeploymentSession;
}

export interface WorkspaceNode {
  readonly kind: 'workspace';
  readonly session: DeploymentSession;
  readonly workspaceId: string;
}

export interface AgentNode {
  readonly kind: 'agent';
  readonly session: DeploymentSession;
  readonly workspaceId: string;
  readonly name: string;
  /** Name of the parent agent for a dev-container sub-agent, else null. */
  readonly parentName: string | null;
}

/** A dev container of a top-level agent; keyed by name, since a workspace rebuild gives it a new ID. */
export interface DevcontainerNode {
  readonly kind: 'devcontainer';
  readonly session: DeploymentSession;
  readonly workspaceId: string;
  /** Name of the parent agent. */
  readonly parentName: string;
  readonly name: string;
}

export type TreeNode = DeploymentNode | WorkspaceNode | AgentNode | DevcontainerNode;

/** The agent a node stands for now (it follows agent-ID changes), or undefined when gone. */
export function agentOf(node: AgentNode): WorkspaceAgent | undefined {
  return node.session.fleet.findAgent(node.workspaceId, node.name, node.parentName);
}

export class NodeCache {
  private readonly nodes = new Map<string, TreeNode>();

  deployment(session: DeploymentSession): DeploymentNode {
    return this.getOrAdd(session.url, () => ({ kind: 'deployment', session }));
  }

  workspace(session: DeploymentSession, workspaceId: string): WorkspaceNode {
    return this.getOrAdd(`${session.url}\n${workspaceId}`, () => ({ kind: 'workspace', session, workspaceId }));
  }

  agent(session: DeploymentSession, workspaceId: string, name: string, parentName: string | null): AgentNode {
    const key = `${session.url}\n${workspaceId}\n${parentName ?? ''}\n${name}`;
    return this.getOrAdd(key, () => ({ kind: 'agent', session, workspaceId, name, parentName }));
  }

  devcontainer(session: DeploymentSession, workspaceId: string, parentName: string, name: string): DevcontainerNode {
    const key = `${session.url}\n${workspaceId}\n${parentName}\n\ndevcontainer\n${name}`;
    return this.getOrAdd(key, () => ({ kind: 'devcontainer', session, workspaceId, parentName, name }));
  }

  /** The node of an agent row, if one was handed out. */
  findAgentNode(session: DeploymentSession, workspaceId: string, agent: WorkspaceAgent): AgentNode | undefined {
    const parentName = agent.parent_id ? (session.fleet.agentById(agent.parent_id)?.agent.name ?? null) : null;
    const n = this.nodes.get(`${session.url}\n${workspaceId}\n${parentName ?? ''}\n${agent.name}`);
    return n?.kind === 'agent' ? n : undefined;
  }

  findWorkspaceNode(session: DeploymentSession, workspaceId: string): WorkspaceNode | undefined {
    const n = this.nodes.get(`${session.url}\n${workspaceId}`);
    return n?.kind === 'workspace' ? n : undefined;
  }

  /** Every agent node handed out (for the elapsed-time ticks). */
  agentNodes(): AgentNode[] {
    return [...this.nodes.values()].filter((n): n is AgentNode => n.kind === 'agent');
  }

  /** Drops nodes whose workspace or deployment is gone, so the cache does not grow forever. */
  prune(alive: (node: TreeNode) => boolean): void {
    for (const [key, node] of this.nodes) if (!alive(node)) this.nodes.delete(key);
  }

  private getOrAdd<T extends TreeNode>(key: string, make: () => T): T {
    const existing = this.nodes.get(key);
    if (existing) return existing as T;
    const node = make();
    this.nodes.set(key, node);
    return node;
  }
}
