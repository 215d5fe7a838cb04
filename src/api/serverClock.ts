/**
 * The deployment's clock as seen through the HTTP `Date` header of its answers, relative to the
 * local clock. Server timestamps (an agent's `first_connected_at`) are compared with local time
 * only through this: a laptop minutes off must neither flag a fresh agent as stuck nor miss a
 * stuck one. The header has a resolution of one second (and the answer travels), so a skew
 * within SKEW_TOLERANCE_MS is indistinguishable from none and counts as none.
 */

export const SKEW_TOLERANCE_MS = 2000;
/** Recent samples kept; the median ignores a single odd answer (a proxy's cached page, a slow link). */
const SAMPLES = 5;

export class ServerClock {
  private readonly samples: number[] = [];
  private skew = 0;

  /** An answer arrived at `localNow` (local clock) carrying this `Date` header (absent or unreadable: ignored). */
  observe(dateHeader: string | null | undefined, localNow: number): void {
    if (!dateHeader) return;
    const server = Date.parse(dateHeader);
    if (Number.isNaN(server)) return;
    // The header truncates to the second: the server's time was somewhere in [server, server + 1 s).
    this.samples.push(server + 500 - localNow);
    if (this.samples.length > SAMPLES) this.samples.shift();
    const sorted = [...this.samples].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const next = Math.abs(median) > SKEW_TOLERANCE_MS ? Math.round(median) : 0;
    // Steady unless the estimate moves by more than the header's resolution: every reader of
    // server times (the tree, the reconnect decision) then sees the same local times.
    if (next === 0 || this.skew === 0 || Math.abs(next - this.skew) > 1000) this.skew = next;
  }

  /** Server clock minus local clock, in ms; 0 while the difference is within the tolerance. */
  get skewMs(): number {
    return this.skew;
  }

  /** A server timestamp (ms since the epoch) on the local clock. */
  toLocal(serverMs: number): number {
    return serverMs - this.skew;
  }
}
