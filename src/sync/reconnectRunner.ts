/**
 * Runs the reconnect reducer (model/reconnect.ts): holds its state, arms one clock timer for the
 * state's next deadline (sending `tick` when it fires), and publishes the decisions. Headless, so
 * the extension's driver, the integration tests and the bench run the same code.
 */
import type { Clock, TimerHandle } from '../common/clock';
import { Emitter, type Disposable } from '../common/disposable';
import type { OpSupport, RepairOp } from '../model/operations';
import {
  DEFAULT_RECONNECT_SETTINGS,
  initialReconnectState,
  loopHistoryOf,
  nextDeadline,
  reduceReconnect,
  type Decision,
  type ReconnectEvent,
  type ReconnectPhase,
  type ReconnectSettings,
  type ReconnectState,
} from '../model/reconnect';

export interface ReconnectRunnerOptions {
  clock: Clock;
  settings?: Partial<ReconnectSettings>;
  /** The automatic reconnects of earlier runs (see `initialReconnectState`). */
  loopHistory?: unknown;
  /** What the bound agent's deployment supports; `unknown` for everything when absent. */
  support?: (op: RepairOp) => OpSupport;
  /** The bound deployment's clock minus the local one (see api/serverClock.ts). */
  skewMs?: () => number;
}

export class ReconnectRunner implements Disposable {
  private s: ReconnectState;
  private settings: ReconnectSettings;
  private readonly decisions = new Emitter<Decision>();
  readonly onDecision = this.decisions.event;
  private timer: { at: number; handle: TimerHandle } | undefined;
  /** Events sent by decision listeners while a step is being published run after it. */
  private readonly queue: ReconnectEvent[] = [];
  private busy = false;
  private disposed = false;

  constructor(private readonly o: ReconnectRunnerOptions) {
    this.settings = { ...DEFAULT_RECONNECT_SETTINGS, ...o.settings };
    this.s = initialReconnectState(o.loopHistory);
  }

  get state(): Readonly<ReconnectState> {
    return this.s;
  }

  get phase(): ReconnectPhase {
    return this.s.phase;
  }

  updateSettings(s: Partial<ReconnectSettings>): void {
    this.settings = { ...this.settings, ...s };
  }

  /** The automatic reconnects still inside the loop window, to persist across reloads. */
  loopHistory(): Record<string, number[]> {
    return loopHistoryOf(this.s, this.o.clock.now(), this.settings);
  }

  dispatch(e: ReconnectEvent): void {
    if (this.disposed) return;
    this.queue.push(e);
    if (this.busy) return;
    this.busy = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        const step = reduceReconnect(this.s, next, {
          now: this.o.clock.now(),
          skewMs: this.o.skewMs?.() ?? 0,
          settings: this.settings,
          support: this.o.support ?? (() => 'unknown'),
        });
        this.s = step.state;
        this.arm();
        for (const d of step.decisions) this.decisions.fire(d);
      }
    } finally {
      this.busy = false;
    }
  }

  private arm(): void {
    const at = nextDeadline(this.s);
    if (this.timer?.at === at) return;
    this.timer?.handle.cancel();
    this.timer = undefined;
    if (at === undefined) return;
    const handle = this.o.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.dispatch({ type: 'tick' });
      },
      Math.max(0, at - this.o.clock.now()),
    );
    this.timer = { at, handle };
  }

  dispose(): void {
    this.dispatch({ type: 'stop' });
    this.disposed = true;
    this.timer?.handle.cancel();
    this.timer = undefined;
    this.decisions.dispose();
  }
}
