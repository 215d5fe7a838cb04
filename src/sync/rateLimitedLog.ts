/**
 * Logs each kind of message at most once per window, with a count of what was held back, so
 * that a stream of bad frames cannot flood the output channel.
 */
import type { Clock } from '../common/clock';
import type { Logger } from '../common/log';

export class RateLimitedLog {
  private readonly seen = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly windowMs = 60_000,
    private readonly maxKeys = 200,
  ) {}

  warn(key: string, message: string): void {
    const now = this.clock.now();
    const entry = this.seen.get(key);
    if (entry && now - entry.at < this.windowMs) {
      entry.suppressed++;
      return;
    }
    const held = entry?.suppressed ? ` (${entry.suppressed} more since last report)` : '';
    if (!entry && this.seen.size >= this.maxKeys) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.seen.set(key, { at: now, suppressed: 0 });
    this.log.warn(message + held);
  }
}

/** The kind of an invalid-frame reason: the text before the field path, e.g. "watch workspace". */
export function reasonKind(reason: string): string {
  const colon = reason.indexOf(':');
  return colon < 0 ? reason : reason.slice(0, colon);
}
