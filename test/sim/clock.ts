/**
 * The simulator's time: real time for the demo, a speed factor for quick runs, or a manual clock
 * that only moves when a test says so. Every delay in the simulation goes through it.
 */
export type ClockMode = 'real' | 'manual' | { speed: number };

export interface SimClock {
  now(): number;
  /** Runs fn after ms of simulated time. */
  setTimer(fn: () => void, ms: number): () => void;
  /** Manual clock only: moves time forward, running due timers in order. */
  advance(ms: number): Promise<void>;
  /** Runs this far ahead of (negative: behind) the time it would tell: a deployment whose clock is off. */
  setOffset(ms: number): void;
  dispose(): void;
}

export function createClock(mode: ClockMode = 'real'): SimClock {
  if (mode === 'manual') return new ManualSimClock();
  const speed = mode === 'real' ? 1 : Math.max(0.001, mode.speed);
  const realStart = Date.now();
  const timers = new Set<NodeJS.Timeout>();
  let offset = 0;
  return {
    now: () => realStart + (Date.now() - realStart) * speed + offset,
    setOffset(ms) {
      offset = ms;
    },
    setTimer(fn, ms) {
      const t = setTimeout(
        () => {
          timers.delete(t);
          fn();
        },
        Math.max(0, ms / speed),
      );
      timers.add(t);
      return () => {
        clearTimeout(t);
        timers.delete(t);
      };
    },
    async advance() {
      throw new Error('advance() needs the manual clock');
    },
    dispose() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}

class ManualSimClock implements SimClock {
  private current = Date.now();
  private offset = 0;
  private seq = 0;
  private readonly timers = new Map<number, { due: number; fn: () => void }>();

  now(): number {
    return this.current + this.offset;
  }

  setOffset(ms: number): void {
    this.offset = ms;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const id = ++this.seq;
    this.timers.set(id, { due: this.current + Math.max(0, ms), fn });
    return () => this.timers.delete(id);
  }

  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      let next: [number, { due: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].due <= target && (!next || entry[1].due < next[1].due)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.current = Math.max(this.current, next[1].due);
      next[1].fn();
      // Let sockets flush what the timer published before the next one runs.
      await new Promise((r) => setImmediate(r));
    }
    this.current = target;
    await new Promise((r) => setImmediate(r));
  }

  dispose(): void {
    this.timers.clear();
  }
}
