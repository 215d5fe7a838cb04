/**
 * The fallback ladder of per-workspace transports, and what a deployment is known to offer.
 * One deployment answers every workspace the same way, so a 404 on a stream path once means
 * that rung is skipped for every other workspace of that deployment.
 */
import type { StreamRung } from '../model/types';

export const LADDER: readonly StreamRung[] = ['connection-watch', 'watch-ws', 'sse', 'poll'];

export type Support = 'unknown' | 'supported' | 'unsupported';

export class DeploymentSupport {
  private readonly known = new Map<StreamRung, Support>();
  /** The fleet push refused here (404, 400, 409, 403, WebSockets blocked), and when to try it again. */
  private pushRefusal: { reason: string; retryAt: number } | undefined;

  /** Why the push is not offered, while that is still believed at `now`. */
  pushUnavailable(now: number): { reason: string; retryAt: number } | undefined {
    return this.pushRefusal && now < this.pushRefusal.retryAt ? this.pushRefusal : undefined;
  }

  markPushUnavailable(reason: string, retryAt: number): void {
    this.pushRefusal = { reason, retryAt };
  }

  markPushSupported(): void {
    this.pushRefusal = undefined;
  }

  get(rung: StreamRung): Support {
    if (rung === 'poll') return 'supported';
    return this.known.get(rung) ?? 'unknown';
  }

  markSupported(rung: StreamRung): void {
    this.known.set(rung, 'supported');
  }

  /**
   * A 404 on a rung that has worked before is about the workspace (deleted, no access), not
   * the deployment: then the rung stays usable for the others. Returns whether it was recorded.
   */
  markUnsupported(rung: StreamRung): boolean {
    if (this.get(rung) === 'supported') return false;
    this.known.set(rung, 'unsupported');
    return true;
  }

  /** For logs and diagnostics: "connection-watch=unsupported watch-ws=supported ...". */
  describe(): string {
    return LADDER.filter((r) => r !== 'poll')
      .map((r) => `${r}=${this.get(r)}`)
      .join(' ');
  }
}

/** The best rung at or below `from` that is neither known unsupported nor excluded. */
export function pickRung(support: DeploymentSupport, excluded: ReadonlySet<StreamRung>, from: StreamRung = 'connection-watch'): StreamRung {
  for (const r of LADDER.slice(LADDER.indexOf(from))) {
    if (r === 'poll') return r;
    if (!excluded.has(r) && support.get(r) !== 'unsupported') return r;
  }
  return 'poll';
}

export function nextRung(r: StreamRung): StreamRung {
  return LADDER[LADDER.indexOf(r) + 1] ?? 'poll';
}
