/**
 * The periodic list poll: one run at a time, the period measured from each run's start (a slow
 * answer does not stretch it), the period re-read on every scheduling so that view visibility
 * and settings take effect at once. Timers come from the injected Clock.
 */
import type { Clock, TimerHandle } from '../common/clock';
import type { Disposable } from '../common/disposable';

export interface PollerOptions {
  clock: Clock;
  run: () => Promise<void>;
  /** Current period in ms. */
  period: () => number;
}

export class Poller implements Disposable {
  private timer: TimerHandle | undefined;
  private inFlight: Promise<void> | undefined;
  private running = false;
  /** Start time of the latest run; -Infinity before the first. */
  lastRunAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: PollerOptions) {}

  start(): void {
    this.running = true;
  }

  /** Runs now (or joins the run in flight) and times the next run from now. */
  pollNow(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (!this.running) return Promise.resolve();
    this.lastRunAt = this.o.clock.now();
    this.inFlight = this.o.run().finally(() => {
      this.inFlight = undefined;
    });
    this.reschedule();
    return this.inFlight;
  }

  /** Re-arms the timer for the current period (call after the period changed). */
  reschedule(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (!this.running) return;
    const period = this.o.period();
    // An infinite period (the push serves and the safety resync is off): no timer at all.
    if (!Number.isFinite(period)) return;
    const delay = Math.max(0, this.lastRunAt + period - this.o.clock.now());
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      // Still waiting for the previous answer: run again as soon as it is in.
      if (this.inFlight) void this.inFlight.then(() => this.pollNow());
      else void this.pollNow();
    }, delay);
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  dispose(): void {
    this.stop();
  }
}
