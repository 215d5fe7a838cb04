/**
 * Kindness to a deployment that just came back. When the deployment itself is lost (every open
 * stream drops together, or the first reconnect of a dropped stream is refused or reset), every
 * editor connected to it would otherwise reconnect within the same second: thousands of
 * upgrades and list reads on a coderd that is still warming up. Instead this client waits a
 * random delay, drawn once per loss, uniform over SPREAD_WINDOW_MS, then all its streams and its
 * list read go together (its sockets count once at the server). A single stream that drops
 * while others stay open is not a loss: it comes back at once, after at most TOGETHER_MS spent
 * seeing whether the others follow.
 *
 * A normal close by a live server (1000, or no code) is no drop of the deployment: it takes part
 * only through its first reconnect, if that is refused.
 *
 * Every connect and list read of the deployment goes through `wrap()` / `ready()`; the class
 * sees the transports open and close through the wrapper, so it needs no other hook.
 */
import type { CloseReason, Connect, TransportHandle } from '../api/socket';
import type { Clock, TimerHandle } from '../common/clock';
import type { Disposable } from '../common/disposable';
import { isUnreachableClose } from './connection';

/**
 * The spread window. A client cannot know how many editors share the deployment; what it can
 * do is make the rate per second window-bound: N clients drawing uniformly over W seconds start
 * N/W per second on average, and the busiest second of W lies about three standard deviations
 * above that. With W = 15 s, 500 clients peak around 45 per second (under their tenth), the
 * median client is back after about 7.5 s and the last one after 15 s plus its connect.
 */
export const SPREAD_WINDOW_MS = 15_000;
/** How long after a first drop the other streams have to drop too for it to be a loss. */
export const TOGETHER_MS = 250;

export interface ReconnectSpreadOptions {
  clock: Clock;
  random?: () => number;
  windowMs?: number;
  /** A loss was declared: `delayMs` is this client's wait before its first reconnect. */
  onLoss?: (why: string, delayMs: number) => void;
}

/**
 * A close that says the deployment went away (reset, going away, service restart, a gateway
 * error, a retryable watch error), as opposed to a live server closing one stream normally.
 */
export function isDeploymentDrop(r: CloseReason): boolean {
  switch (r.kind) {
    case 'network':
      return true;
    case 'http':
      return r.status >= 500;
    case 'closed':
      return [1001, 1006, 1011, 1012, 1013, 1014].includes(r.code);
    case 'watch-error':
      return r.error.retryable;
    default:
      return false;
  }
}

type Key = object;
type StreamMark = 'open' | 'dropped' | 'retrying';

export class ReconnectSpread implements Disposable {
  /** Weak: a stream disposed while it waits out a backoff never closes its wrapper. */
  private readonly marks = new WeakMap<Key, StreamMark>();
  private readonly open = new Set<Key>();
  /** The first drop of a possible loss, while the other streams still may follow. */
  private episode: { drops: number; timer: TimerHandle } | undefined;
  /** Set while a loss is on (until a stream opens again): the drawn reconnect time. */
  private loss: { at: number } | undefined;
  private holdTimer: TimerHandle | undefined;
  private waiters: (() => void)[] = [];
  private disposed = false;

  constructor(private readonly o: ReconnectSpreadOptions) {}

  /** Whether a connect or list read asked now would wait. */
  get holding(): boolean {
    return !this.disposed && (this.undecided() || (this.loss !== undefined && this.o.clock.now() < this.loss.at));
  }

  /** The reconnect time drawn for the current loss, if one is on. */
  get reconnectAt(): number | undefined {
    return this.loss?.at;
  }

  /** Resolves when a request to the deployment may go (at once unless holding). */
  ready(): Promise<void> {
    if (!this.holding) return Promise.resolve();
    return new Promise((resolve) => this.whenFree(resolve));
  }

  /** `connect` gated by the spread, with its opens and closes reported to it. */
  wrap<T>(connect: Connect<T>): Connect<T> {
    const key: Key = {};
    return (h) => {
      let inner: TransportHandle | undefined;
      let cancelled = false;
      const go = () => {
        if (cancelled) return;
        inner = connect({
          onOpen: () => {
            this.opened(key);
            h.onOpen();
          },
          onFrame: (f) => h.onFrame(f),
          onAlive: () => h.onAlive(),
          onClose: (r) => {
            this.closed(key, r);
            h.onClose(r);
          },
        });
      };
      if (this.holding) this.whenFree(go);
      else go();
      return {
        close: () => {
          // Closed by this side (dispose, heartbeat, a rung change): not a drop by the deployment.
          cancelled = true;
          this.marks.delete(key);
          this.open.delete(key);
          inner?.close();
        },
      };
    };
  }

  /** The user asked for a refresh: this client's wait ends now (the loss itself stays on). */
  endWait(): void {
    if (this.loss) this.loss.at = Math.min(this.loss.at, this.o.clock.now());
    this.episode?.timer.cancel();
    this.episode = undefined;
    this.holdTimer?.cancel();
    this.holdTimer = undefined;
    this.release();
  }

  dispose(): void {
    this.disposed = true;
    this.episode?.timer.cancel();
    this.episode = undefined;
    this.holdTimer?.cancel();
    this.release();
  }

  private undecided(): boolean {
    return this.episode !== undefined && this.open.size > 0;
  }

  private opened(key: Key): void {
    this.marks.set(key, 'open');
    this.open.add(key);
    // Something opened: the deployment is back, the next loss draws a new delay.
    this.loss = undefined;
  }

  private closed(key: Key, r: CloseReason): void {
    const mark = this.marks.get(key);
    if (mark === 'open') {
      this.marks.set(key, 'dropped');
      this.open.delete(key);
      if (isDeploymentDrop(r)) this.dropped();
    } else if (mark === 'dropped') {
      this.marks.set(key, 'retrying');
      if (isUnreachableClose(r)) this.declareLoss('the first reconnect was refused or reset');
    }
  }

  private dropped(): void {
    if (this.loss) return;
    if (!this.episode) {
      this.episode = {
        drops: 0,
        timer: this.o.clock.setTimeout(() => {
          // The others stayed open: one stream dropped, it goes back at once.
          this.episode = undefined;
          this.release();
        }, TOGETHER_MS),
      };
    }
    this.episode.drops++;
    if (!this.undecided() && this.episode.drops >= 2) this.declareLoss('every stream dropped together');
    else if (!this.undecided()) this.endEpisode();
  }

  private endEpisode(): void {
    this.episode?.timer.cancel();
    this.episode = undefined;
    this.release();
  }

  private declareLoss(why: string): void {
    if (this.loss || this.disposed) return;
    this.episode?.timer.cancel();
    this.episode = undefined;
    const delay = Math.floor((this.o.random ?? Math.random)() * (this.o.windowMs ?? SPREAD_WINDOW_MS));
    const at = this.o.clock.now() + delay;
    this.loss = { at };
    this.o.onLoss?.(why, delay);
    this.holdTimer?.cancel();
    this.holdTimer = this.o.clock.setTimeout(() => {
      this.holdTimer = undefined;
      // A real timer may fire a millisecond before the wall clock says it is due.
      if (this.loss) this.loss.at = Math.min(this.loss.at, this.o.clock.now());
      this.release();
    }, delay);
  }

  private whenFree(fn: () => void): void {
    this.waiters.push(fn);
  }

  /** Lets every waiter go that may go now; the others wait for the next release. */
  private release(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const fn of waiting) {
      if (this.holding) this.waiters.push(fn);
      else fn();
    }
  }
}
