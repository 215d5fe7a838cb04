/** A stand-in for the model that records every event and lets a test wait for one. */
import type { Change, FleetEvent } from '../../../src/model/types';

export class RecordingFleet {
  readonly events: FleetEvent[] = [];
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  apply(e: FleetEvent): Change[] {
    this.events.push(e);
    for (const w of [...this.waiters]) {
      if (w.check()) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve();
      }
    }
    if (e.kind === 'connection') return [{ kind: 'connection-changed', state: e.state }];
    if (e.kind === 'workspace') return [{ kind: 'workspace-changed', workspaceId: e.workspace.id, buildChanged: false }];
    return [];
  }

  of<K extends FleetEvent['kind']>(kind: K): Extract<FleetEvent, { kind: K }>[] {
    return this.events.filter((e): e is Extract<FleetEvent, { kind: K }> => e.kind === kind);
  }

  connectionKinds(): string[] {
    return this.of('connection').map((e) => e.state.kind);
  }

  rungs(workspaceId: string): string[] {
    return this.of('rung')
      .filter((e) => e.workspaceId === workspaceId)
      .map((e) => e.rung);
  }

  /** Resolves once `check` holds (checked now and after every event); fails after `ms`. */
  until(check: () => boolean, what: string, ms = 3000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x.check !== check);
        reject(new Error(`timed out waiting for ${what}; events: ${this.events.map((e) => e.kind).join(',')}`));
      }, ms);
      this.waiters.push({
        check,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }
}

/** Resolves once `check` holds, for conditions that raise no event (sockets, log lines); fails after `ms`. */
export async function eventually(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
