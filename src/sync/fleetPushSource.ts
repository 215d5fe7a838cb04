/**
 * What the sync needs from the fleet push (tailnet `WorkspaceUpdates`, see api/tailnet/): decoded
 * updates and the state of the connection. The sync codes against this shape so that its
 * decisions are testable with a fake; the adapter over the real client lives beside the client.
 */
import type { Disposable } from '../common/disposable';
import type { Connect } from '../api/socket';

export interface PushedWorkspace {
  id: string;
  name: string;
  /** REST status name (`running`, `stopped`, ...) or `unknown:<n>`. */
  status: string;
}

export interface PushedAgent {
  id: string;
  name: string;
  workspaceId: string;
}

/** One pushed message. The first after every (re)connect is a snapshot of the owner's whole fleet. */
export interface FleetUpdate {
  snapshot: boolean;
  upsertedWorkspaces: readonly PushedWorkspace[];
  upsertedAgents: readonly PushedAgent[];
  deletedWorkspaces: readonly PushedWorkspace[];
  deletedAgents: readonly PushedAgent[];
}

export type FleetPushState =
  /** The call is up; a snapshot follows. */
  | { kind: 'open' }
  /** The session ended or failed to start; the source reconnects by itself (backoff with jitter). */
  | { kind: 'closed'; reason: string }
  /**
   * This deployment does not offer the push (404, 400 older server, 409 browser-only, 403 policy):
   * the source stopped. `reason` is for the log, with the status and the server's message.
   */
  | { kind: 'unavailable'; status: number; reason: string }
  /** A 401 on the upgrade: the source stopped. */
  | { kind: 'signed-out'; detail: string };

export interface FleetPushSource extends Disposable {
  readonly onUpdate: (listener: (u: FleetUpdate) => void) => Disposable;
  readonly onState: (listener: (s: FleetPushState) => void) => Disposable;
  start(): void;
  /** Skip the backoff wait (the deployment came back). */
  reconnectNow(): void;
}

/** Opens the push for the fleet of the user with this ID (from `/users/me`). */
/** `gate` wraps every connect of the source (the reconnect spread after a loss of the deployment). */
export type FleetPushFactory = (ownerId: string, gate?: (connect: Connect<FleetUpdate>) => Connect<FleetUpdate>) => FleetPushSource;
