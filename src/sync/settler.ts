/**
 * Re-reads of a workspace whose agent is still connecting while nothing pushes its connection
 * status (connection-watch without its watch-ws companion): connection-watch says nothing when
 * the agent becomes `connected`, and the stuck signature needs exactly that. Every `period` ms,
 * at most `maxReads` times per workspace, until the agent has connected.
 */
import type { Clock, TimerHandle } from '../common/clock';
import type { Disposable } from '../common/disposable';

export class Settler implements Disposable {
  private readonly pending = new Map<string, { timer: TimerHandle; reads: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly read: (workspaceId: string) => void,
    private readonly period = 500,
    private readonly maxReads = 60,
  ) {}

  /** After each read of the workspace: schedule the next one, or stop when it is no longer needed. */
  update(workspaceId: string, needed: boolean): void {
    const prev = this.pending.get(workspaceId);
    if (!needed) return this.stop(workspaceId);
    const reads = (prev?.reads ?? 0) + 1;
    if (reads > this.maxReads) return;
    prev?.timer.cancel();
    const timer = this.clock.setTimeout(() => this.read(workspaceId), this.period);
    this.pending.set(workspaceId, { timer, reads });
  }

  stop(workspaceId: string): void {
    this.pending.get(workspaceId)?.timer.cancel();
    this.pending.delete(workspaceId);
  }

  dispose(): void {
    for (const id of [...this.pending.keys()]) this.stop(id);
  }
}
