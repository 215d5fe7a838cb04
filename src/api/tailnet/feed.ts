/**
 * The owner's whole fleet, pushed: Coder's tailnet WorkspaceUpdates call on a reconnecting
 * stream. Construct it from a CoderClient, subscribe to `onUpdate` and `onState`, call start().
 *
 * - Every (re)connect starts with a snapshot (`snapshot: true`): every workspace of the owner
 *   and every agent of its latest build, as upserted. Later updates are diffs.
 * - Reconnects go through the same reducer as the other streams (backoff with full jitter,
 *   reset after a stable period). A broken frame, an unknown kind, a message over 4 MiB or a
 *   protobuf that does not decode ends that session with one log line and a reconnect.
 * - It stops for good when signed out (401) or when the push is not available here (400, 403,
 *   404, 409 on the upgrade): the state says which, with the server's message.
 */
import type { Clock } from '../../common/clock';
import { Emitter, type Disposable } from '../../common/disposable';
import { silentLogger, type Logger } from '../../common/log';
import type { CoderClient } from '../client';
import type { Validation } from '../errors';
import { ReconnectingStream, describeClose, type BackoffPolicy, type Connect, type StreamState } from '../socket';
import type { KeepAliveOptions, WorkspaceUpdatesCall } from './call';
import { workspaceUpdatesTransport, type FleetUpdate } from './transport';

export type { FleetUpdate } from './transport';
export type { FleetAgent, FleetDelta, FleetWorkspace, FleetWorkspaceStatus } from './messages';

export type FleetFeedState =
  | { kind: 'idle' }
  | { kind: 'connecting'; attempt: number }
  /** Upgraded and the call sent; the snapshot follows as the next update. */
  | { kind: 'open'; reconnect: boolean }
  /**
   * The session ended; the next attempt starts in `retryInMs`. `attempt` counts failures since the
   * last stable session, `opens` the sessions that ever opened (0: WebSockets may be blocked here).
   */
  | { kind: 'closed'; reason: string; retryInMs: number; attempt: number; opens: number }
  /** Not offered by this deployment (or refused by a proxy or policy): move down the ladder. */
  | { kind: 'unavailable'; status: number; reason: string; message?: string; detail?: string; validations?: Validation[] }
  | { kind: 'signed-out'; reason: string }
  | { kind: 'disposed' };

export interface WorkspaceUpdatesFeedOptions {
  client: CoderClient;
  clock: Clock;
  log?: Logger;
  /** The owner's UUID when already known; otherwise /users/me is read once. */
  ownerId?: string;
  random?: () => number;
  backoff?: Partial<Omit<BackoffPolicy, 'random'>>;
  keepAlive?: KeepAliveOptions;
  /** Sees each call as it starts (tests). */
  onCall?: (call: WorkspaceUpdatesCall) => void;
  /** Wraps every connect (the sync's reconnect spread after a loss of the deployment). */
  gate?: (connect: Connect<FleetUpdate>) => Connect<FleetUpdate>;
}

export class WorkspaceUpdatesFeed implements Disposable {
  private readonly updates = new Emitter<FleetUpdate>();
  private readonly states = new Emitter<FleetFeedState>();
  private readonly stream: ReconnectingStream<FleetUpdate>;
  private readonly log: Logger;
  private current: FleetFeedState = { kind: 'idle' };
  private owner: Promise<string> | undefined;

  /** Every pushed message, in order. */
  readonly onUpdate = this.updates.event;
  /** Every change of state. */
  readonly onState = this.states.event;

  constructor(private readonly o: WorkspaceUpdatesFeedOptions) {
    this.log = o.log ?? silentLogger;
    if (o.ownerId) this.owner = Promise.resolve(o.ownerId);
    this.stream = new ReconnectingStream<FleetUpdate>({
      clock: o.clock,
      random: o.random,
      backoff: o.backoff,
      // The yamux keep-alive watches the session; the reducer's silence timer would be a second, coarser one.
      pingIntervalMs: 0,
      connect: gated(
        o.gate,
        workspaceUpdatesTransport({
          client: o.client,
          clock: o.clock,
          ownerId: () => this.ownerId(),
          keepAlive: o.keepAlive,
          onCall: o.onCall,
        }),
      ),
      onFrame: (u) => this.updates.fire(u),
      onState: (s) => this.setState(s),
    });
  }

  get state(): FleetFeedState {
    return this.current;
  }

  start(): void {
    this.stream.start();
  }

  /** Skips the backoff wait. */
  reconnectNow(): void {
    this.stream.reconnectNow();
  }

  dispose(): void {
    this.stream.dispose();
    this.updates.dispose();
    this.states.dispose();
  }

  private ownerId(): Promise<string> {
    if (!this.owner) {
      const p = this.o.client.me().then((u) => u.id);
      // A failed read is not kept: the next attempt asks again.
      p.catch(() => {
        if (this.owner === p) this.owner = undefined;
      });
      this.owner = p;
    }
    return this.owner;
  }

  private setState(s: StreamState): void {
    const next = feedState(s);
    this.current = next;
    switch (next.kind) {
      case 'open':
        this.log.info(`tailnet: WorkspaceUpdates push ${next.reconnect ? 're' : ''}connected`);
        break;
      case 'closed':
        this.log.warn(`tailnet: WorkspaceUpdates session ended (${next.reason}); reconnecting in ${next.retryInMs} ms`);
        break;
      case 'unavailable':
        this.log.warn(`tailnet: WorkspaceUpdates push not available here: ${next.reason}`);
        break;
      case 'signed-out':
        this.log.warn(`tailnet: WorkspaceUpdates push refused, signed out: ${next.reason}`);
        break;
      default:
        break;
    }
    this.states.fire(next);
  }
}

export function feedState(s: StreamState): FleetFeedState {
  switch (s.kind) {
    case 'idle':
      return { kind: 'idle' };
    case 'connecting':
      return { kind: 'connecting', attempt: s.attempt };
    case 'open':
      return { kind: 'open', reconnect: s.opens > 1 };
    case 'backoff':
      return { kind: 'closed', reason: describeClose(s.reason), retryInMs: s.delayMs, attempt: s.attempt, opens: s.opens };
    case 'closed-permanently': {
      if (s.reason === 'disposed') return { kind: 'disposed' };
      const reason = s.cause ? describeClose(s.cause) : s.detail;
      if (s.reason === 'signed-out') return { kind: 'signed-out', reason };
      const c = s.cause;
      if (c && (c.kind === 'http' || c.kind === 'unavailable')) {
        return { kind: 'unavailable', status: c.status, reason, message: c.message, detail: c.detail, validations: c.validations };
      }
      return { kind: 'unavailable', status: 0, reason };
    }
  }
}

function gated<T>(gate: ((c: Connect<T>) => Connect<T>) | undefined, connect: Connect<T>): Connect<T> {
  return gate ? gate(connect) : connect;
}
