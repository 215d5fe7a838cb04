/**
 * A reconnecting stream, written as a pure reducer over explicit states plus a small runner
 * that performs the reducer's effects (connect, close, timers) through the injected Clock.
 *
 * Why a reducer: every rule (backoff, reset after a stable period, heartbeat, which closes end
 * retrying) is a transition that unit tests can drive without sockets or real time.
 */
import type { Clock, TimerHandle } from '../common/clock';
import type { Disposable } from '../common/disposable';
import type { Validation } from './errors';
import type { WatchError } from './schemas';

/** Why a transport ended (or failed to start). */
export type CloseReason =
  | { kind: 'http'; status: number; message?: string; detail?: string; validations?: Validation[] } // failed upgrade / non-2xx answer
  // A refusal that means "this stream is not offered here" on the route that said it (not "signed out").
  | { kind: 'unavailable'; status: number; message?: string; detail?: string; validations?: Validation[] }
  | { kind: 'protocol'; message: string } // the peer broke the wire format: drop this session, reconnect
  | { kind: 'network'; message: string }
  | { kind: 'closed'; code: number; reason?: string } // the server closed an open stream
  | { kind: 'watch-error'; error: WatchError }
  | { kind: 'unsupported'; message: string } // e.g. an answer that is not an event stream
  | { kind: 'heartbeat'; message?: string };

export type PermanentReason = 'signed-out' | 'unsupported' | 'fatal' | 'disposed';

export type StreamState =
  | { kind: 'idle' }
  | { kind: 'connecting'; attempt: number; opens: number }
  | { kind: 'open'; attempt: number; opens: number; stable: boolean }
  | { kind: 'backoff'; attempt: number; opens: number; delayMs: number; reason: CloseReason }
  | { kind: 'closed-permanently'; reason: PermanentReason; detail: string; cause?: CloseReason };

export type StreamEvent =
  | { type: 'start' }
  | { type: 'opened' }
  | { type: 'alive' } // any frame or ping
  | { type: 'closed'; reason: CloseReason }
  | { type: 'backoff-elapsed' }
  | { type: 'stable-elapsed' }
  | { type: 'heartbeat-expired' }
  | { type: 'reconnect-now' }
  | { type: 'dispose' };

export type StreamEffect =
  | { type: 'connect' }
  | { type: 'close-transport' }
  | { type: 'arm-backoff'; ms: number }
  | { type: 'arm-stable' }
  | { type: 'arm-heartbeat' }
  | { type: 'cancel-timers' }
  | { type: 'opened'; reconnect: boolean };

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  random: () => number;
}

export const DEFAULT_BACKOFF: Omit<BackoffPolicy, 'random'> = { baseMs: 250, capMs: 30_000 };

/** Full jitter: uniform in [0, min(cap, base * 2^attempt)]. */
export function backoffDelay(attempt: number, p: BackoffPolicy): number {
  const ceiling = Math.min(p.capMs, p.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(p.random() * ceiling);
}

/** Which closes end retrying. Everything not listed here is retried with backoff. */
export function classifyClose(r: CloseReason): { retry: true } | { retry: false; reason: PermanentReason; detail: string } {
  switch (r.kind) {
    case 'http':
      if (r.status === 401 || r.status === 403) return { retry: false, reason: 'signed-out', detail: `HTTP ${r.status}` };
      if (r.status === 404 || r.status === 405 || r.status === 501)
        return { retry: false, reason: 'unsupported', detail: `HTTP ${r.status}` };
      if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
        return { retry: false, reason: 'fatal', detail: `HTTP ${r.status}${r.message ? ` ${r.message}` : ''}` };
      }
      return { retry: true };
    case 'closed':
      // Private-range codes some proxies and servers use to mirror HTTP statuses.
      if (r.code === 4401 || r.code === 4403) return { retry: false, reason: 'signed-out', detail: `close ${r.code}` };
      if (r.code === 4404) return { retry: false, reason: 'unsupported', detail: `close ${r.code}` };
      return { retry: true };
    case 'watch-error':
      if (r.error.retryable) return { retry: true };
      return { retry: false, reason: 'fatal', detail: `watch error ${r.error.code}: ${r.error.message}` };
    case 'unsupported':
      return { retry: false, reason: 'unsupported', detail: r.message };
    case 'unavailable':
      return { retry: false, reason: 'unsupported', detail: describeClose(r) };
    case 'protocol':
    case 'network':
    case 'heartbeat':
      return { retry: true };
  }
}

export function describeClose(r: CloseReason): string {
  switch (r.kind) {
    case 'http':
    case 'unavailable': {
      const parts = [`HTTP ${r.status}`];
      if (r.message) parts.push(r.message);
      if (r.detail) parts.push(`(${r.detail})`);
      if (r.validations?.length) parts.push(r.validations.map((v) => `${v.field}: ${v.detail}`).join('; '));
      return parts.join(' ');
    }
    case 'protocol':
      return `protocol error: ${r.message}`;
    case 'network':
      return r.message;
    case 'closed':
      return `closed ${r.code}${r.reason ? ` ${r.reason}` : ''}`;
    case 'watch-error':
      return `watch error ${r.error.code}: ${r.error.message}`;
    case 'unsupported':
      return r.message;
    case 'heartbeat':
      return r.message ?? 'no frame or ping in time';
  }
}

type Step = { state: StreamState; effects: StreamEffect[] };

/** The whole behaviour of the stream, as a function of its state and one event. */
export function reduce(s: StreamState, e: StreamEvent, backoff: BackoffPolicy): Step {
  if (s.kind === 'closed-permanently') return { state: s, effects: [] };
  if (e.type === 'dispose') {
    return {
      state: { kind: 'closed-permanently', reason: 'disposed', detail: 'disposed' },
      effects: [{ type: 'cancel-timers' }, { type: 'close-transport' }],
    };
  }
  switch (s.kind) {
    case 'idle':
      return e.type === 'start' ? { state: { kind: 'connecting', attempt: 0, opens: 0 }, effects: [{ type: 'connect' }] } : same(s);
    case 'connecting':
      if (e.type === 'opened') {
        return {
          state: { kind: 'open', attempt: s.attempt, opens: s.opens + 1, stable: false },
          effects: [{ type: 'arm-stable' }, { type: 'arm-heartbeat' }, { type: 'opened', reconnect: s.opens > 0 }],
        };
      }
      if (e.type === 'closed') return afterClose(s.attempt, s.opens, e.reason, backoff);
      return same(s);
    case 'open':
      switch (e.type) {
        case 'alive':
          return { state: s, effects: [{ type: 'arm-heartbeat' }] };
        case 'stable-elapsed':
          // Long enough open: the next failure starts the backoff from the bottom again.
          return { state: { ...s, attempt: 0, stable: true }, effects: [] };
        case 'heartbeat-expired':
          return afterClose(s.attempt, s.opens, { kind: 'heartbeat' }, backoff, true);
        case 'reconnect-now':
          return {
            state: { kind: 'connecting', attempt: s.attempt, opens: s.opens },
            effects: [{ type: 'cancel-timers' }, { type: 'close-transport' }, { type: 'connect' }],
          };
        case 'closed':
          return afterClose(s.attempt, s.opens, e.reason, backoff);
        default:
          return same(s);
      }
    case 'backoff':
      if (e.type === 'backoff-elapsed' || e.type === 'reconnect-now') {
        return {
          state: { kind: 'connecting', attempt: s.attempt, opens: s.opens },
          effects: [{ type: 'cancel-timers' }, { type: 'connect' }],
        };
      }
      return same(s);
  }
}

function same(s: StreamState): Step {
  return { state: s, effects: [] };
}

function afterClose(attempt: number, opens: number, reason: CloseReason, backoff: BackoffPolicy, mustClose = false): Step {
  const closeFx: StreamEffect[] = [{ type: 'cancel-timers' }];
  if (mustClose) closeFx.push({ type: 'close-transport' });
  const verdict = classifyClose(reason);
  if (!verdict.retry) {
    return { state: { kind: 'closed-permanently', reason: verdict.reason, detail: verdict.detail, cause: reason }, effects: closeFx };
  }
  const delayMs = backoffDelay(attempt, backoff);
  return {
    state: { kind: 'backoff', attempt: attempt + 1, opens, delayMs, reason },
    effects: [...closeFx, { type: 'arm-backoff', ms: delayMs }],
  };
}

/** What a transport tells its owner. Calls after close are ignored by the runner. */
export interface TransportHandlers<T> {
  onOpen(): void;
  onFrame(frame: T): void;
  /** A ping or keep-alive: proves the connection is alive without carrying data. */
  onAlive(): void;
  onClose(reason: CloseReason): void;
}

export interface TransportHandle {
  close(): void;
}

export type Connect<T> = (h: TransportHandlers<T>) => TransportHandle;

export interface ReconnectingStreamOptions<T> {
  connect: Connect<T>;
  clock: Clock;
  onFrame: (frame: T) => void;
  /** Every open; `reconnect` is true from the second one on (time for a REST resync). */
  onOpen?: (info: { reconnect: boolean }) => void;
  onState?: (s: StreamState) => void;
  random?: () => number;
  backoff?: Partial<Omit<BackoffPolicy, 'random'>>;
  /** Open this long without failing resets the backoff. Default 10 s. */
  stableMs?: number;
  /** Server ping interval; silence for twice this long closes the connection. 0 disables. Default 15 s. */
  pingIntervalMs?: number;
}

export class ReconnectingStream<T> implements Disposable {
  private s: StreamState = { kind: 'idle' };
  private transport: TransportHandle | undefined;
  private generation = 0;
  private backoffTimer: TimerHandle | undefined;
  private stableTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private readonly policy: BackoffPolicy;

  constructor(private readonly o: ReconnectingStreamOptions<T>) {
    this.policy = { ...DEFAULT_BACKOFF, ...o.backoff, random: o.random ?? Math.random };
  }

  get state(): StreamState {
    return this.s;
  }

  start(): void {
    this.dispatch({ type: 'start' });
  }
  /** Skip the backoff wait (e.g. the user pressed Refresh). */
  reconnectNow(): void {
    this.dispatch({ type: 'reconnect-now' });
  }
  dispose(): void {
    this.dispatch({ type: 'dispose' });
  }

  private dispatch(e: StreamEvent): void {
    const step = reduce(this.s, e, this.policy);
    const changed = step.state !== this.s;
    this.s = step.state;
    for (const fx of step.effects) this.run(fx);
    if (changed && e.type !== 'alive') this.o.onState?.(this.s);
  }

  private run(fx: StreamEffect): void {
    const clock = this.o.clock;
    switch (fx.type) {
      case 'connect':
        this.openTransport();
        return;
      case 'close-transport': {
        const t = this.transport;
        this.transport = undefined;
        this.generation++;
        t?.close();
        return;
      }
      case 'arm-backoff':
        this.backoffTimer = clock.setTimeout(() => this.dispatch({ type: 'backoff-elapsed' }), fx.ms);
        return;
      case 'arm-stable':
        this.stableTimer = clock.setTimeout(() => this.dispatch({ type: 'stable-elapsed' }), this.o.stableMs ?? 10_000);
        return;
      case 'arm-heartbeat': {
        const ping = this.o.pingIntervalMs ?? 15_000;
        this.heartbeatTimer?.cancel();
        if (ping > 0) this.heartbeatTimer = clock.setTimeout(() => this.dispatch({ type: 'heartbeat-expired' }), 2 * ping);
        return;
      }
      case 'cancel-timers':
        this.backoffTimer?.cancel();
        this.stableTimer?.cancel();
        this.heartbeatTimer?.cancel();
        this.backoffTimer = this.stableTimer = this.heartbeatTimer = undefined;
        return;
      case 'opened':
        this.o.onOpen?.({ reconnect: fx.reconnect });
        return;
    }
  }

  private openTransport(): void {
    const gen = ++this.generation;
    const current = () => gen === this.generation;
    let closed = false;
    try {
      const handle = this.o.connect({
        onOpen: () => {
          if (current()) this.dispatch({ type: 'opened' });
        },
        onFrame: (frame) => {
          if (!current()) return;
          this.dispatch({ type: 'alive' });
          this.o.onFrame(frame);
        },
        onAlive: () => {
          if (current()) this.dispatch({ type: 'alive' });
        },
        onClose: (reason) => {
          if (!current() || closed) return;
          closed = true;
          this.transport = undefined;
          this.generation++;
          this.dispatch({ type: 'closed', reason });
        },
      });
      // A transport may fail synchronously; then its handle is already stale.
      if (current()) this.transport = handle;
      else handle.close();
    } catch (e) {
      this.transport = undefined;
      this.dispatch({ type: 'closed', reason: { kind: 'network', message: e instanceof Error ? e.message : String(e) } });
    }
  }
}
