/**
 * The fleet push over the tailnet client (api/tailnet/feed.ts), in the shape the sync codes
 * against (fleetPushSource.ts): its states reduced to open / closed / unavailable / signed out.
 */
import type { CoderClient } from '../api/client';
import { WorkspaceUpdatesFeed, type FleetFeedState } from '../api/tailnet/feed';
import type { Clock } from '../common/clock';
import { Emitter } from '../common/disposable';
import type { Logger } from '../common/log';
import type { FleetPushFactory, FleetPushSource, FleetPushState, FleetUpdate } from './fleetPushSource';

export interface TailnetFleetPushOptions {
  client: CoderClient;
  clock: Clock;
  log: Logger;
  random?: () => number;
}

export function tailnetFleetPush(o: TailnetFleetPushOptions): FleetPushFactory {
  return (ownerId, gate) => new TailnetFleetPushSource(new WorkspaceUpdatesFeed({ ...o, ownerId, ...(gate ? { gate } : {}) }));
}

class TailnetFleetPushSource implements FleetPushSource {
  private readonly states = new Emitter<FleetPushState>();
  readonly onState = this.states.event;
  readonly onUpdate: (listener: (u: FleetUpdate) => void) => { dispose(): void };
  private readonly sub: { dispose(): void };

  constructor(private readonly feed: WorkspaceUpdatesFeed) {
    this.onUpdate = feed.onUpdate;
    this.sub = feed.onState((s) => {
      const mapped = pushState(s);
      if (mapped) this.states.fire(mapped);
    });
  }

  start(): void {
    this.feed.start();
  }

  reconnectNow(): void {
    this.feed.reconnectNow();
  }

  dispose(): void {
    this.sub.dispose();
    this.states.dispose();
    this.feed.dispose();
  }
}

export function pushState(s: FleetFeedState): FleetPushState | undefined {
  switch (s.kind) {
    case 'open':
      return { kind: 'open' };
    case 'closed':
      return { kind: 'closed', reason: s.reason };
    case 'unavailable':
      return { kind: 'unavailable', status: s.status, reason: s.reason };
    case 'signed-out':
      return { kind: 'signed-out', detail: s.reason };
    default:
      return undefined;
  }
}
