/**
 * Time as a dependency. Everything that waits (backoff, heartbeats, stuck thresholds,
 * reconnect deadlines) takes a Clock so that tests can run minutes of behaviour in
 * microseconds with a manual clock.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};
