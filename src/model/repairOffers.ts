/**
 * Which repairs to offer for an agent, honestly: only what works on this deployment for this
 * agent. The lifecycle-replay and reinitialize routes are in no Coder release; they are a hook for
 * deployments that add them. What a deployment answered on them is remembered by
 * model/operations.ts; these are only the rules over that memory and the doctor's verdict. Pure.
 */
import { REPAIR_OPS, type OpSupport, type RepairOp } from './operations';

export type RepairAction = 'recreate' | RepairOp | 'restart';

export interface OfferInput {
  /** What the agent's deployment is known to support (`OperationSupport.of(url).get`). */
  support: (op: RepairOp) => OpSupport;
  /** The agent is a dev-container sub-agent whose container can be recreated (the dev-container hook). */
  devContainerRecreate: boolean;
  /** False when the doctor knows a restart will not cure this agent (model/doctor.ts restartHelps). */
  restartHelps: boolean;
}

/**
 * The repairs to offer, best first: recreating the dev container of a sub-agent (a real
 * reinitialization); the replay/reinitialize routes unless the deployment said it has none (the
 * first use is the probe); a workspace restart for any other agent, unless the doctor knows it
 * will not help.
 */
export function repairOffers(i: OfferInput): RepairAction[] {
  const out: RepairAction[] = [];
  if (i.devContainerRecreate) out.push('recreate');
  for (const op of REPAIR_OPS) if (i.support(op) !== 'unsupported') out.push(op);
  if (!i.devContainerRecreate && i.restartHelps) out.push('restart');
  return out;
}
