/**
 * Which rung serves the fleet (the list of workspaces, their status, their agents' IDs), and why.
 * The push is the top rung for the default filter; the list poll serves when the push is not
 * there (not offered by the deployment, not connected for a while) or the filter is another one.
 */
import type { FleetRung } from '../model/types';

/** The only filter the push speaks for: it carries exactly the signed-in user's workspaces. */
export const PUSH_FILTER = 'owner:me';

export type PushStatus =
  /** No push client is wired (headless uses, tests). */
  | { kind: 'off' }
  /** Waiting for the first list read (full rows first, then the push compares against them). */
  | { kind: 'waiting' }
  | { kind: 'connecting' }
  | { kind: 'open' }
  | { kind: 'reconnecting'; since: number; reason: string }
  | { kind: 'unavailable'; reason: string; retryAt: number };

export interface FleetRungDecision {
  rung: FleetRung;
  reason: string;
}

export function coversList(filter: string): boolean {
  return filter.trim().split(/\s+/).join(' ').toLowerCase() === PUSH_FILTER;
}

/**
 * `graceMs`: how long a push that dropped keeps serving while it reconnects (its snapshot
 * catches up when it is back); past that the list poll takes over until it returns.
 */
export function decideFleetRung(push: PushStatus, filter: string, now: number, graceMs: number): FleetRungDecision {
  const why = pushWhy(push, now, graceMs);
  if (!coversList(filter)) {
    const pushPart = push.kind === 'open' ? 'the push still feeds agent-ID changes' : `push ${why.text}`;
    return { rung: 'poll', reason: `filter "${filter}" is not covered by the push (${PUSH_FILTER} only); ${pushPart}` };
  }
  return { rung: why.serves ? 'push' : 'poll', reason: why.text };
}

function pushWhy(push: PushStatus, now: number, graceMs: number): { serves: boolean; text: string } {
  switch (push.kind) {
    case 'off':
      return { serves: false, text: 'push not available in this build' };
    case 'waiting':
      return { serves: false, text: 'push starts after the first list read' };
    case 'connecting':
      return { serves: false, text: 'push connecting' };
    case 'open':
      return { serves: true, text: 'tailnet WorkspaceUpdates push is open' };
    case 'reconnecting': {
      const serves = now - push.since < graceMs;
      return { serves, text: `push reconnecting (${push.reason})` };
    }
    case 'unavailable':
      return { serves: false, text: `push unavailable: ${push.reason}; retried at ${new Date(push.retryAt).toISOString()}` };
  }
}

/** The list poll's period: the safety resync while the push serves (0 turns it off), else the poll interval. */
export function fleetPollPeriod(rung: FleetRung, pollIntervalMs: number, resyncMs: number): number {
  if (rung === 'poll') return pollIntervalMs;
  return resyncMs > 0 ? resyncMs : Number.POSITIVE_INFINITY;
}
