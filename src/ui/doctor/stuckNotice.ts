/**
 * The notice for a stuck bound agent: what the doctor says is wrong and how to fix it, and only
 * the repairs that work for this agent here (model/repairOffers.ts); then what the user picked.
 */
import * as vscode from 'vscode';
import { mainCause } from '../../model/doctor';
import type { RepairAction } from '../../model/repairOffers';
import { devContainerRecreateFor } from '../binding/devContainerHook';
import { agentOfRef, labelOf, offerRestart, type AgentRef } from '../binding/repairs';
import type { Ctx } from '../ctx';
import type { AgentDoctor } from './agentDoctor';
import { offersFor } from './offers';

export type NoticeChoice = RepairAction | 'copy-diagnostics' | 'details' | 'later';

/** True when the doctor knows a workspace restart will not cure the agent. */
export function restartWillNotHelp(doctor: AgentDoctor, ref: AgentRef): boolean {
  const ws = ref.session.fleet.workspace(ref.workspaceId);
  const agent = agentOfRef(ref);
  return !!ws && !!agent && !doctor.restartHelps(ref.session, ws, agent);
}

/** The reconnect machine's side of the answer. */
export type MachineAnswer = 'replay' | 'reinitialize' | 'restart' | 'later';

/** Shows the notice and carries out the choice; `answer` tells the reconnect machine what happened. */
export async function stuckNotice(ctx: Ctx, doctor: AgentDoctor, ref: AgentRef, answer: (c: MachineAnswer) => void): Promise<void> {
  const choice = await showStuckNotice(ctx, doctor, ref);
  switch (choice) {
    case 'replay':
    case 'reinitialize':
      return answer(choice);
    case 'restart': {
      const restarted = await offerRestart(ctx, ref, vscode.l10n.t('{0} is stuck at "created".', labelOf(ref)));
      return answer(restarted ? 'restart' : 'later');
    }
    case 'recreate': {
      const ws = ref.session.fleet.workspace(ref.workspaceId);
      const agent = agentOfRef(ref);
      if (ws && agent) await devContainerRecreateFor(ref.session, ws.id, agent)?.run();
      return answer('later');
    }
    case 'copy-diagnostics':
      void vscode.commands.executeCommand('coderStatus.copyDiagnostics', agent(ref));
      return answer('later');
    case 'details':
      void vscode.commands.executeCommand('coderStatus.showDetails');
      return answer('later');
    case 'later':
      return answer('later');
  }
}

function agent(ref: AgentRef): string | undefined {
  return agentOfRef(ref)?.id;
}

async function showStuckNotice(ctx: Ctx, doctor: AgentDoctor, ref: AgentRef): Promise<NoticeChoice> {
  const ws = ref.session.fleet.workspace(ref.workspaceId);
  const agent = agentOfRef(ref);
  if (!ws || !agent) return 'later';
  const found = mainCause(doctor.explain(ref.session, ws, agent));
  const offers = offersFor(ctx, doctor, ref.session, ws, agent);
  const head = vscode.l10n.t('{0} is connected but its lifecycle is stuck at "created".', labelOf(ref));
  const message = found ? `${head} ${found.cause} ${found.fix}` : head;
  const words: Record<RepairAction, string> = {
    recreate: vscode.l10n.t('Rebuild Dev Container'),
    replay: vscode.l10n.t('Replay Lifecycle'),
    reinitialize: vscode.l10n.t('Reinitialize Agent'),
    restart: vscode.l10n.t('Restart Workspace'),
  };
  const copy = vscode.l10n.t('Copy Diagnostics');
  const details = vscode.l10n.t('Show Details');
  ctx.log.info(`stuck notice for ${labelOf(ref)}: ${found?.code ?? 'no diagnosis'}; offering ${offers.join(', ') || 'no repair'}`);
  const choice = await vscode.window.showWarningMessage(message, ...offers.map((o) => words[o]), copy, details);
  if (choice === copy) return 'copy-diagnostics';
  if (choice === details) return 'details';
  return offers.find((o) => words[o] === choice) ?? 'later';
}
