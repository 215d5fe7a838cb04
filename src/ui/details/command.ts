/** `coderStatus.showDetails`: the details panel of a tree agent, or of the bound agent. */
import { DetailsPanel } from './panel';
import { createDetailsSource, followLogsInto } from './source';
import { classifyIn } from '../views/classify';
import type { Ctx } from '../ctx';
import type { WindowBinding } from '../binding/windowBinding';
import type { AgentNode } from '../views/treeNodes';
import type { DeploymentSession } from '../deployments/deploymentSession';
import type { AgentDoctor } from '../doctor/agentDoctor';
import { offersFor } from '../doctor/offers';
import type { RepairAction } from '../../model/repairOffers';

export interface AgentRef {
  session: DeploymentSession;
  workspaceId: string;
  name: string;
  parentName: string | null;
}

export function showAgentDetails(ctx: Ctx, bound: WindowBinding, doctor: AgentDoctor, ref: AgentRef): void {
  const { session, workspaceId, name, parentName } = ref;
  const isBound = () => {
    const b = bound.bound;
    return !!b && b.session === session && b.workspaceId === workspaceId && b.agentName === name && b.parentName === parentName;
  };
  const source = createDetailsSource({
    key: `${session.url}|${workspaceId}|${parentName ?? ''}|${name}`,
    resolve: () => {
      const workspace = session.fleet.workspace(workspaceId);
      const agent = session.fleet.findAgent(workspaceId, name, parentName);
      if (!workspace || !agent) return undefined;
      const now = ctx.clock.now();
      return {
        deploymentUrl: session.url,
        workspace,
        agent,
        classification: classifyIn(session, agent, now, ctx.config.stuckThresholdMs),
        connection: session.fleet.connection,
        bound: isBound(),
        now,
        diagnoses: doctor.explain(session, workspace, agent),
        offers: offerFlags(offersFor(ctx, doctor, session, workspace, agent)),
      };
    },
    onDidChange: (listener) => {
      const a = session.onDidChange(() => listener());
      const b = doctor.onDidChange(() => listener());
      return { dispose: () => (a.dispose(), b.dispose()) };
    },
    followLogs: (agentId, sink) => followLogsInto(session.client, agentId, sink, { clock: ctx.clock, log: ctx.log }),
  });
  ctx.log.info(`details panel for ${name} in workspace ${workspaceId}`);
  DetailsPanel.show({ extensionUri: ctx.extension.extensionUri, log: ctx.log }, source);
}

function offerFlags(offers: readonly RepairAction[]): { replay: boolean; reinitialize: boolean; restart: boolean } {
  return { replay: offers.includes('replay'), reinitialize: offers.includes('reinitialize'), restart: offers.includes('restart') };
}

export function refOfNode(node: AgentNode): AgentRef {
  return { session: node.session, workspaceId: node.workspaceId, name: node.name, parentName: node.parentName };
}
