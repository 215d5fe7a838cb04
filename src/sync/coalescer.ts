/**
 * Runs one task per key at a time; asking again while it runs makes exactly one more run
 * after it. Used for REST reads of a workspace that several stream frames ask for at once.
 */
export class Coalescer {
  private readonly pending = new Map<string, { again: boolean; done: Promise<void> }>();

  constructor(
    private readonly task: (key: string) => Promise<void>,
    private readonly onError: (key: string, e: unknown) => void,
  ) {}

  /** Resolves (never rejects: failures go to onError) once the runs that cover this request are over. */
  request(key: string): Promise<void> {
    const p = this.pending.get(key);
    if (p) {
      p.again = true;
      return p.done;
    }
    const state = { again: false, done: Promise.resolve() };
    this.pending.set(key, state);
    const run = async () => {
      try {
        do {
          state.again = false;
          await this.task(key);
        } while (state.again);
      } finally {
        // Synchronously with the last check of `again`, so that no request can slip in between.
        if (this.pending.get(key) === state) this.pending.delete(key);
      }
    };
    state.done = run().catch((e: unknown) => this.onError(key, e));
    return state.done;
  }

  /** Forgets every run in flight (their results are dropped by the task's own checks). */
  clear(): void {
    this.pending.clear();
  }
}
