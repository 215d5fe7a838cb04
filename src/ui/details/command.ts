/** `coderStatus.showDetails`: the details panel of a tree agent, or of the bound agent. */
import { DetailsPanel } from './panel';
import { createDetailsSource, detailsKey, followLogsInto, resolveDetails, type DetailsTarget } from './source';
import { classifyIn } from '../views/classify';
import type { Ctx } from '../ctx';
import type { WindowBinding } from '../binding/windowBinding';
import type { ReconnectDriver } from '../binding/reconnectDriver';
import type { AgentNode } from '../views/treeNodes';
import type { DeploymentSession } from '../deployments/deploymentSession';
import type { OpenDeployments } from '../deployments/openDeployments';

export interface AgentRef {
  session: DeploymentSession;
  workspaceId: string;
  name: string;
  parentName: string | null;
}

/** Opens details panels over the open deployments, the window binding and its persisted history. */
export class AgentDetails {
  constructor(
    private readonly ctx: Ctx,
    private readonly sessions: OpenDeployments,
    private readonly bound: WindowBinding,
    private readonly driver: ReconnectDriver,
  ) {}

  show(ref: AgentRef): void {
    const target: DetailsTarget = {
      deploymentUrl: ref.session.url,
      workspaceId: ref.workspaceId,
      agentName: ref.name,
      parentName: ref.parentName,
    };
    this.ctx.log.info(`details panel for ${ref.name} in workspace ${ref.workspaceId}`);
    DetailsPanel.show({ extensionUri: this.ctx.extension.extensionUri, log: this.ctx.log }, this.sourceOf(target));
  }

  private sourceOf(target: DetailsTarget) {
    const ctx = this.ctx;
    const session = () => this.sessions.get(target.deploymentUrl);
    return createDetailsSource({
      key: detailsKey(target),
      resolve: () =>
        resolveDetails(target, {
          sessionOf: (url) => this.sessions.get(url),
          classify: (s, agent, now) => classifyIn(s, agent, now, ctx.config.stuckThresholdMs),
          isBound: (t) => this.isBound(t),
          idHistory: () => this.driver.history,
          now: () => ctx.clock.now(),
        }),
      onDidChange: (listener) => this.sessions.onDidChange((e) => e.session === session() && listener()),
      followLogs: (agentId, sink) => {
        const s = session();
        if (!s) {
          sink.status('unavailable');
          return { dispose() {} };
        }
        return followLogsInto(s.client, agentId, sink, { clock: ctx.clock, log: ctx.log });
      },
    });
  }

  private isBound(t: DetailsTarget): boolean {
    const b = this.bound.bound;
    return (
      !!b &&
      b.session.url === t.deploymentUrl &&
      b.workspaceId === t.workspaceId &&
      b.agentName === t.agentName &&
      b.parentName === t.parentName
    );
  }
}

export function refOfNode(node: AgentNode): AgentRef {
  return { session: node.session, workspaceId: node.workspaceId, name: node.name, parentName: node.parentName };
}
