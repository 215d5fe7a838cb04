/** The model's classification of an agent, with this deployment's stuck clock and the user's threshold. */
import type { WorkspaceAgent } from '../../api/schemas';
import { classifyAgent } from '../../model/lifecycle';
import type { Classification } from '../../model/types';
import type { DeploymentSession } from '../deployments/deploymentSession';

export function classifyIn(session: DeploymentSession, agent: WorkspaceAgent, now: number, stuckThresholdMs: number): Classification {
  return classifyAgent(agent, now, { stuckSince: session.fleet.stuckSince(agent.id), stuckThresholdMs });
}

/**
 * True when the agent's text changes with time alone: an elapsed time while starting, or a
 * stuck threshold ahead while connected at `created`.
 */
export function movesWithClock(agent: WorkspaceAgent): boolean {
  return agent.lifecycle_state === 'starting' || (agent.lifecycle_state === 'created' && agent.status === 'connected');
}
