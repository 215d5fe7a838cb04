/**
 * The hook through which dev-container support offers its real reinitialization (recreating the
 * container, which rebuilds its sub-agent). Until a provider is set, no agent has one, and the
 * repair offers fall back to what works for any agent.
 *
 * A provider answers, for one agent of the latest build: is it a dev-container sub-agent whose
 * dev container this deployment can recreate (`POST .../devcontainers/{id}/recreate`)? If so, it
 * returns how to run that recreate (with its own progress and bound) and the offers put it first
 * and drop the workspace restart.
 */
import type { WorkspaceAgent } from '../../api/schemas';
import type { Disposable } from '../../common/disposable';
import type { DeploymentSession } from '../deployments/deploymentSession';

export interface DevContainerRecreate {
  /** Recreates the dev container and follows the sub-agent until it is ready (or fails, said to the user). */
  run(): Promise<void>;
}

export type DevContainerRecreateProvider = (
  session: DeploymentSession,
  workspaceId: string,
  agent: WorkspaceAgent,
) => DevContainerRecreate | undefined;

let provider: DevContainerRecreateProvider | undefined;

/** Sets the provider (one at a time); disposing it removes it again. */
export function setDevContainerRecreateProvider(p: DevContainerRecreateProvider): Disposable {
  provider = p;
  return {
    dispose: () => {
      if (provider === p) provider = undefined;
    },
  };
}

export function devContainerRecreateFor(
  session: DeploymentSession,
  workspaceId: string,
  agent: WorkspaceAgent,
): DevContainerRecreate | undefined {
  return provider?.(session, workspaceId, agent);
}
