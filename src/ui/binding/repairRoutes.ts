/**
 * What each deployment answered on the repair routes (model/repairOffers.ts), kept in globalState
 * so that a reload, or another window, does not probe again; dropped when the server version changes.
 */
import type { Memento } from 'vscode';
import { noteAnswer, routesFor, type RepairOp, type RouteMemory } from '../../model/repairOffers';
import type { DeploymentSession } from '../deployments/deploymentSession';

const ROUTES_KEY = 'coderStatus.repairRoutes';

function all(state: Memento): Record<string, unknown> {
  const v = state.get<unknown>(ROUTES_KEY);
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

export function routesOf(state: Memento, session: Pick<DeploymentSession, 'url' | 'serverVersion'>): RouteMemory {
  return routesFor(all(state)[session.url], session.serverVersion);
}

/** Records an answer; resolves to whether the memory changed. */
export async function noteRouteAnswer(
  state: Memento,
  session: Pick<DeploymentSession, 'url' | 'serverVersion'>,
  op: RepairOp,
  status: number,
): Promise<boolean> {
  const before = routesOf(state, session);
  const after = noteAnswer(before, op, status);
  if (after === before) return false;
  await state.update(ROUTES_KEY, { ...all(state), [session.url]: after });
  return true;
}
