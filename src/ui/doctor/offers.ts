/** The repairs that work for one agent here: the operations memory, the dev-container hook and the doctor. */
import * as vscode from 'vscode';
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

/** The button text of a repair, wherever repairs are offered (the stuck notice, the replay fallback). */
export function offerLabel(a: RepairAction): string {
  switch (a) {
    case 'recreate':
      return vscode.l10n.t('Rebuild Dev Container');
    case 'replay':
      return vscode.l10n.t('Replay Lifecycle');
    case 'reinitialize':
      return vscode.l10n.t('Reinitialize Agent');
    case 'restart':
      return vscode.l10n.t('Restart Workspace');
  }
}
