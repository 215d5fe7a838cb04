/**
 * Dev containers of a parent agent (Coder v2.23+): the containers watch as a `Connect` for
 * ReconnectingStream, and what each refusal of the three routes means, so that callers decide on
 * a kind instead of a status code. The watch's messages have the list's shape; the server reads
 * nothing from the client and may send nothing until something changes, so owners read the list
 * by REST when it opens.
 */
import type { CoderClient } from './client';
import { ContainersResponseSchema, type ContainersResponse } from './devcontainerSchemas';
import { CoderApiError } from './errors';
import { safeParse } from './schemas';
import type { CloseReason, Connect } from './socket';
import { jsonSocket, type InvalidFrameListener } from './streams';

/**
 * Why a containers request did not give an answer:
 * - `unsupported`: 404 on the list or watch, a server before dev containers (the feature is off there);
 * - `not-connected`: 400, the parent agent is not connected (a state to show, not an error);
 * - `disabled`: 403 on the list or watch, dev containers are off on that agent (its template) or the
 *   agent is itself a dev container (a state, not an error);
 * - `transitioning`: 409 on recreate, the dev container is starting, stopping or deleting;
 * - `unknown-devcontainer`: 404 on recreate, no dev container with that id (any more);
 * - `agent-timeout`: 408, the agent did not answer in time;
 * - `failed`: anything else (network, 5xx, a bad answer, no permission).
 */
export type DevcontainerFailureKind =
  'unsupported' | 'not-connected' | 'disabled' | 'transitioning' | 'unknown-devcontainer' | 'agent-timeout' | 'failed';

export class DevcontainerError extends Error {
  constructor(
    readonly kind: DevcontainerFailureKind,
    message: string,
    readonly apiError?: CoderApiError,
  ) {
    super(message);
    this.name = 'DevcontainerError';
  }
}

export type ContainersRoute = 'list' | 'watch' | 'recreate';

/** The meaning of an HTTP status on one of the dev-container routes. */
export function failureKindOf(route: ContainersRoute, status: number): DevcontainerFailureKind {
  if (status === 400) return 'not-connected';
  if (status === 408) return 'agent-timeout';
  if (status === 403 && route !== 'recreate') return 'disabled';
  if (status === 409 && route === 'recreate') return 'transitioning';
  if (status === 404) return route === 'recreate' ? 'unknown-devcontainer' : 'unsupported';
  if (status === 405 || status === 501) return 'unsupported';
  return 'failed';
}

/** Wraps anything a client call threw into a DevcontainerError (the message is already redacted). */
export function devcontainerError(route: ContainersRoute, e: unknown): DevcontainerError {
  if (e instanceof DevcontainerError) return e;
  if (e instanceof CoderApiError) {
    const kind = e.kind === 'http' ? failureKindOf(route, e.status) : 'failed';
    return new DevcontainerError(kind, e.describe(), e);
  }
  return new DevcontainerError('failed', e instanceof Error ? e.message : String(e));
}

/** GET the list; failures come back as DevcontainerError. */
export async function listDevcontainers(client: CoderClient, parentAgentId: string, signal?: AbortSignal): Promise<ContainersResponse> {
  try {
    return await client.containers(parentAgentId, { signal });
  } catch (e) {
    throw devcontainerError('list', e);
  }
}

/** POST recreate: resolves on 202; failures come back as DevcontainerError. */
export async function recreateDevcontainer(client: CoderClient, parentAgentId: string, devcontainerId: string): Promise<void> {
  try {
    await client.recreateDevcontainer(parentAgentId, devcontainerId);
  } catch (e) {
    throw devcontainerError('recreate', e);
  }
}

/** The kind of a watch that ended for good, from its close reason (an HTTP refusal of the upgrade). */
export function watchFailureKind(reason: CloseReason | undefined): DevcontainerFailureKind {
  return reason?.kind === 'http' ? failureKindOf('watch', reason.status) : 'failed';
}

/** GET /workspaceagents/{id}/containers/watch: one whole containers answer per text message. */
export function watchContainers(client: CoderClient, parentAgentId: string, onInvalid?: InvalidFrameListener): Connect<ContainersResponse> {
  return jsonSocket<ContainersResponse>({
    client,
    path: `/api/v2/workspaceagents/${encodeURIComponent(parentAgentId)}/containers/watch`,
    onInvalid,
    decode(json, h) {
      const r = safeParse(ContainersResponseSchema, json);
      if (!r.ok) {
        onInvalid?.(`containers frame: ${r.reason}`);
        h.onAlive();
        return undefined;
      }
      return r.value;
    },
  });
}
