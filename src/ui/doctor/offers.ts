/** The repairs that work for one agent here: the operations memory, the dev-container hook and the doctor. */
import type { WorkspaceAgent, Workspace } from '../../api/schemas';
import { repairOffers, type RepairAction } from '../../model/repairOffers';
import { devContainerRecreateFor } from '../binding/devContainerHook';
import type { Ctx } from '../ctx';
import type { DeploymentSession } from '../deployments/deploymentSession';
import type { AgentDoctor } from './agentDoctor';

export function offersFor(ctx: Ctx, doctor: AgentDoctor, session: DeploymentSession, ws: Workspace, agent: WorkspaceAgent): RepairAction[] {
  return repairOffers({
    support: (op) => ctx.operations.get(session.url, op),
    devContainerRecreate: devContainerRecreateFor(session, ws.id, agent) !== undefined,
    restartHelps: doctor.restartHelps(session, ws, agent),
  });
}
