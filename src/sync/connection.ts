/**
 * The deployment's connection state as the sync sees it (connecting, live, offline, signed out)
 * and the offline probe: while the deployment is unreachable the list poll doubles as its probe,
 * first after 1 s, then 2, 4, 8 s... up to the poll interval, so that a short outage (a
 * control-plane restart, a network switch) ends within about its own length instead of at the
 * next poll. A failing stream asks the REST side whether the deployment is down, at most every 5 s:
 * one stream failing is not the deployment being down (a proxy may block WebSockets only).
 */
import { CoderApiError, errorText, isAuthError, isUnreachable } from '../api/errors';
import type { CloseReason } from '../api/socket';
import type { Clock } from '../common/clock';
import type { ConnectionState } from '../model/types';

export const OFFLINE_PROBE_FIRST_MS = 1000;
export const PROBE_MIN_INTERVAL_MS = 5000;

/** What a failed request says about the deployment. */
export type FailureVerdict =
  | { kind: 'ignore' } // aborted by this side (sign-out, dispose)
  | { kind: 'signed-out'; text: string }
  | { kind: 'offline'; text: string }
  | { kind: 'error'; text: string }; // the deployment answered, with an error about this request

export function classifyFailure(e: unknown, secrets: readonly (string | undefined)[]): FailureVerdict {
  if (e instanceof CoderApiError && e.kind === 'aborted') return { kind: 'ignore' };
  const text = errorText(e, secrets);
  if (isAuthError(e)) return { kind: 'signed-out', text };
  if (isUnreachable(e)) return { kind: 'offline', text };
  return { kind: 'error', text };
}

/** A stream close that may mean the deployment is down (as opposed to refusing the stream). */
export function isUnreachableClose(r: CloseReason): boolean {
  return r.kind === 'network' || (r.kind === 'http' && r.status >= 500);
}

export class ConnectionTracker {
  private current: ConnectionState['kind'] | undefined;
  /** Failed list polls since the deployment went offline (the probe backoff). */
  private offlineProbes = 0;

  constructor(
    private readonly clock: Clock,
    private readonly onState: (s: ConnectionState) => void,
  ) {}

  get kind(): ConnectionState['kind'] | undefined {
    return this.current;
  }

  set(state: ConnectionState): void {
    this.current = state.kind;
    if (state.kind !== 'offline') this.offlineProbes = 0;
    this.onState(state);
  }

  /** Something succeeded. Returns whether this ends an outage (time to catch up on everything). */
  markLive(): { changed: boolean; wasOffline: boolean } {
    if (this.current === 'live') return { changed: false, wasOffline: false };
    const wasOffline = this.current === 'offline';
    this.set({ kind: 'live' });
    return { changed: true, wasOffline };
  }

  /** Returns whether the state changed (only the first failure of an outage does). */
  goOffline(error: string): boolean {
    if (this.current === 'offline') return false;
    this.set({ kind: 'offline', since: this.clock.now(), error });
    return true;
  }

  /** The list poll's period: the normal one, or the probe backoff while offline. */
  pollPeriod(normalMs: number): number {
    if (this.current !== 'offline') return normalMs;
    return Math.min(normalMs, OFFLINE_PROBE_FIRST_MS * 2 ** Math.min(this.offlineProbes, 20));
  }

  /** A list poll failed while offline: the next probe waits twice as long. */
  probeFailed(): void {
    if (this.current === 'offline') this.offlineProbes++;
  }

  /** Whether a failing stream should make the list poll run now to check the deployment. */
  shouldProbe(lastPollAt: number): boolean {
    return this.current !== 'offline' && this.clock.now() - lastPollAt >= PROBE_MIN_INTERVAL_MS;
  }
}
