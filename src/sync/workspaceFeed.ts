/**
 * The live feed of one workspace: a ReconnectingStream on the best rung of the ladder that the
 * deployment offers, moving down a rung when a rung turns out to be unavailable.
 *
 * On connection-watch the feed also keeps a watch-ws "status" stream open when the deployment
 * has it: connection-watch tells lifecycle and agent-ID changes at once but never the agent's
 * connection status, so without a companion a ready agent that disconnects would show as
 * connected until the next REST read. The companion's frames are whole workspaces.
 */
import type { CoderClient } from '../api/client';
import type { ConnectionWatchEvent } from '../api/schemas';
import { ReconnectingStream, describeClose, type CloseReason, type Connect, type StreamState } from '../api/socket';
import { connectionWatch, watchSse, watchWs, type WatchEvent } from '../api/streams';
import type { Clock } from '../common/clock';
import type { Disposable } from '../common/disposable';
import type { Logger } from '../common/log';
import type { StreamRung } from '../model/types';
import { type DeploymentSupport, nextRung, pickRung } from './ladder';

export interface FeedHost {
  readonly client: CoderClient;
  readonly clock: Clock;
  readonly log: Logger;
  readonly support: DeploymentSupport;
  readonly random?: () => number;
  readonly pingIntervalMs?: number;
  /** Wraps every connect of the feed (the reconnect spread after a deployment loss). */
  gate?<T>(connect: Connect<T>): Connect<T>;
  /**
   * The agent name a connection-watch should follow, or undefined when connection-watch would
   * not see every agent that matters (several agents and none bound): then watch-ws is used.
   */
  connectionWatchAgent(workspaceId: string): string | undefined;
  onConnectionWatch(workspaceId: string, agentName: string, event: ConnectionWatchEvent): void;
  onWatchEvent(workspaceId: string, event: WatchEvent): void;
  onOpened(workspaceId: string, rung: StreamRung, reconnect: boolean): void;
  /** A transient failure (the stream retries by itself). */
  onFailure(workspaceId: string, rung: StreamRung, reason: CloseReason): void;
  onSignedOut(detail: string): void;
  onRung(workspaceId: string, rung: StreamRung): void;
  /** A rung answered 404 after having worked: the workspace itself may be gone. */
  onMaybeGone(workspaceId: string): void;
  onInvalid(reason: string): void;
  /** Reads the workspace over REST now: whether the API answers (a stream failing while it does is blocked, not down). */
  restWorks(workspaceId: string): Promise<boolean>;
}

/**
 * A rung that has never opened on this deployment and failed this many times in a row while the
 * REST API answers is taken as blocked on the way (a proxy that drops WebSocket upgrades): the
 * feed moves down the ladder instead of retrying it forever.
 */
export const BLOCKED_AFTER_ATTEMPTS = 3;

export class WorkspaceFeed implements Disposable {
  private stream: ReconnectingStream<unknown> | undefined;
  private status: ReconnectingStream<unknown> | undefined;
  private current: StreamRung = 'poll';
  private reported: StreamRung | undefined;
  private agentName: string | undefined;
  /** Rungs that failed for this workspace only (e.g. a non-retryable WatchError). */
  private readonly excluded = new Set<StreamRung>();
  private disposed = false;

  constructor(
    private readonly host: FeedHost,
    readonly workspaceId: string,
  ) {}

  get rung(): StreamRung {
    return this.current;
  }

  /** Whether whole workspaces with connection status are being pushed (any rung but poll, or the companion open). */
  get pushesStatus(): boolean {
    if (this.current === 'watch-ws' || this.current === 'sse') return this.stream?.state.kind === 'open';
    return this.current === 'connection-watch' && this.status?.state.kind === 'open';
  }

  start(from: StreamRung = 'connection-watch'): void {
    if (this.disposed) return;
    this.stream?.dispose();
    this.stream = undefined;
    this.stopStatus();
    let rung = pickRung(this.host.support, this.excluded, from);
    if (rung === 'connection-watch') {
      this.agentName = this.host.connectionWatchAgent(this.workspaceId);
      if (this.agentName === undefined) rung = pickRung(this.host.support, this.excluded, 'watch-ws');
    }
    this.setRung(rung);
    if (rung === 'poll') return;
    const stream = new ReconnectingStream<unknown>({
      connect: this.connectFor(rung),
      clock: this.host.clock,
      random: this.host.random,
      pingIntervalMs: this.host.pingIntervalMs,
      onFrame: (frame) => this.frame(rung, frame),
      onOpen: ({ reconnect }) => {
        this.host.support.markSupported(rung);
        this.host.onOpened(this.workspaceId, rung, reconnect);
      },
      onState: (s) => this.stateChanged(rung, s),
    });
    this.stream = stream;
    stream.start();
    if (rung === 'connection-watch') this.startStatus();
  }

  /** The watch-ws companion of a connection-watch (see the top of this file). */
  private startStatus(): void {
    if (this.excluded.has('watch-ws') || this.host.support.get('watch-ws') === 'unsupported') return;
    const status = new ReconnectingStream<unknown>({
      connect: this.connectFor('watch-ws'),
      clock: this.host.clock,
      random: this.host.random,
      pingIntervalMs: this.host.pingIntervalMs,
      onFrame: (frame) => this.host.onWatchEvent(this.workspaceId, frame as WatchEvent),
      onOpen: () => this.host.support.markSupported('watch-ws'),
      onState: (s) => {
        if (this.disposed) return;
        this.checkBlocked('watch-ws', status, s, () => {
          this.host.log.warn(
            `watch-ws (status) never connected in ${BLOCKED_AFTER_ATTEMPTS} attempts while the REST API answers; the workspace is re-read instead`,
          );
          this.stopStatus();
        });
        if (s.kind !== 'closed-permanently' || s.reason === 'disposed') return;
        // Without the companion the host re-reads the workspace instead; the main stream goes on.
        this.host.log.info(`watch-ws (status) ${this.workspaceId}: ${s.detail}`);
        if (s.reason === 'signed-out') this.host.onSignedOut(`watch-ws: ${s.detail}`);
        else if (s.reason === 'unsupported') this.host.support.markUnsupported('watch-ws');
        queueMicrotask(() => {
          if (this.status === status) this.status = undefined;
        });
      },
    });
    this.status = status;
    status.start();
  }

  private stopStatus(): void {
    this.status?.dispose();
    this.status = undefined;
  }

  /** The binding changed: move onto connection-watch for the newly followed agent, or off it. */
  agentChanged(): void {
    const wanted = this.host.connectionWatchAgent(this.workspaceId);
    const move =
      this.current === 'connection-watch'
        ? wanted !== this.agentName
        : wanted !== undefined && pickRung(this.host.support, this.excluded) === 'connection-watch';
    if (move) this.start();
  }

  reconnectNow(): void {
    for (const stream of [this.stream, this.status]) {
      if (stream?.state.kind === 'backoff') stream.reconnectNow();
    }
  }

  dispose(): void {
    this.disposed = true;
    this.stream?.dispose();
    this.stream = undefined;
    this.stopStatus();
  }

  private connectFor(rung: StreamRung): Connect<unknown> {
    const connect = this.rawConnect(rung);
    return this.host.gate ? this.host.gate(connect) : connect;
  }

  private rawConnect(rung: StreamRung): Connect<unknown> {
    const { client } = this.host;
    const onInvalid = (reason: string) => this.host.onInvalid(reason);
    switch (rung) {
      case 'connection-watch':
        return connectionWatch(client, this.workspaceId, this.agentName, onInvalid);
      case 'watch-ws':
        return watchWs(client, this.workspaceId, onInvalid);
      default:
        return watchSse(client, this.workspaceId, onInvalid);
    }
  }

  private frame(rung: StreamRung, frame: unknown): void {
    if (rung === 'connection-watch') {
      this.host.onConnectionWatch(this.workspaceId, this.agentName ?? '', frame as ConnectionWatchEvent);
    } else {
      this.host.onWatchEvent(this.workspaceId, frame as WatchEvent);
    }
  }

  /**
   * See BLOCKED_AFTER_ATTEMPTS: calls `moveOff` when `stream` (on `rung`) has never opened,
   * failed that many times on the way (network, 5xx), and the REST API answers right now.
   */
  private checkBlocked(rung: StreamRung, stream: ReconnectingStream<unknown> | undefined, s: StreamState, moveOff: () => void): void {
    if (s.kind !== 'backoff' || s.opens > 0 || s.attempt !== BLOCKED_AFTER_ATTEMPTS) return;
    const onTheWay = s.reason.kind === 'network' || (s.reason.kind === 'http' && s.reason.status >= 500);
    if (!onTheWay || this.host.support.get(rung) === 'supported') return;
    void this.host.restWorks(this.workspaceId).then((ok) => {
      if (!ok || this.disposed || !stream || stream.state.kind === 'open' || stream.state.kind === 'closed-permanently') return;
      if (stream !== this.stream && stream !== this.status) return;
      this.host.support.markUnsupported(rung);
      moveOff();
    });
  }

  private stateChanged(rung: StreamRung, s: StreamState): void {
    if (this.disposed) return;
    if (s.kind === 'backoff') {
      this.host.log.debug(`${rung} ${this.workspaceId}: ${describeClose(s.reason)}; retry in ${s.delayMs} ms`);
      this.host.onFailure(this.workspaceId, rung, s.reason);
      this.checkBlocked(rung, this.stream, s, () => {
        this.host.log.warn(
          `${rung} never connected in ${BLOCKED_AFTER_ATTEMPTS} attempts while the REST API answers (${describeClose(s.reason)}); a proxy may block it: moving down the ladder`,
        );
        this.start(nextRung(rung));
      });
      return;
    }
    if (s.kind !== 'closed-permanently' || s.reason === 'disposed') return;
    this.host.log.info(`${rung} ${this.workspaceId}: ${s.detail}`);
    switch (s.reason) {
      case 'signed-out':
        this.host.onSignedOut(`${rung}: ${s.detail}`);
        return;
      case 'unsupported':
        if (!this.host.support.markUnsupported(rung)) {
          this.host.onMaybeGone(this.workspaceId);
          this.excluded.add(rung);
        }
        break;
      case 'fatal':
        this.excluded.add(rung);
        break;
    }
    // Defer so that the old stream's dispatch finishes before a new one starts.
    queueMicrotask(() => this.start(nextRung(rung)));
  }

  private setRung(rung: StreamRung): void {
    this.current = rung;
    if (rung === this.reported) return;
    this.reported = rung;
    this.host.onRung(this.workspaceId, rung);
  }
}
