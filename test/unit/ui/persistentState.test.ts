import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Memento } from 'vscode';
import { OperationSupport } from '../../../src/model/operations';
import { PersistentState, RECONNECT_NOTICE_LIFETIME_MS, windowKey } from '../../../src/ui/persistentState';

/** VS Code's Memento contract over a Map (get with a default, update to undefined deletes). */
class MapMemento implements Memento {
  readonly values = new Map<string, unknown>();
  keys(): readonly string[] {
    return [...this.values.keys()];
  }
  get<T>(key: string, defaultValue?: T): T | undefined {
    return this.values.has(key) ? (this.values.get(key) as T) : defaultValue;
  }
  update(key: string, value: unknown): Thenable<void> {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, structuredClone(value));
    return Promise.resolve();
  }
}

describe('PersistentState', () => {
  const authority = 'coder-vscode.example--alice--dev.main';
  it('keeps the reconnect notice per window: another folder in the same global storage sees none', async () => {
    const global = new MapMemento();
    const first = new PersistentState(global, new MapMemento(), windowKey(authority, 'vscode-remote://x/home/a'));
    const other = new PersistentState(global, new MapMemento(), windowKey(authority, 'vscode-remote://x/home/b'));
    await first.setReconnectNotice({ text: 'Reconnected to dev.main', at: 1_000 });
    assert.equal(other.reconnectNotice, undefined);
    await other.setReconnectNotice(undefined);
    const reloaded = new PersistentState(global, new MapMemento(), windowKey(authority, 'vscode-remote://x/home/a'));
    assert.deepEqual(reloaded.reconnectNotice, { text: 'Reconnected to dev.main', at: 1_000 });
    await reloaded.setReconnectNotice(undefined);
    assert.equal(reloaded.reconnectNotice, undefined);
    assert.equal(global.values.size, 0, 'nothing left behind');
  });

  it('expires notices of windows that never came back when a new one is written', async () => {
    const global = new MapMemento();
    const gone = new PersistentState(global, new MapMemento(), windowKey(undefined, 'file:///gone'));
    const here = new PersistentState(global, new MapMemento(), windowKey(undefined, 'file:///here'));
    await gone.setReconnectNotice({ text: 'old', at: 0 });
    await here.setReconnectNotice({ text: 'new', at: RECONNECT_NOTICE_LIFETIME_MS + 1 });
    assert.equal(gone.reconnectNotice, undefined);
    assert.equal(here.reconnectNotice?.text, 'new');
  });

  it('reads values of the wrong shape as absent, including a notice written by an older version', () => {
    const global = new MapMemento();
    const workspace = new MapMemento();
    global.values.set('coderStatus.reconnectNotice', { text: 'shared by every window', at: 5 });
    global.values.set('coderStatus.deployments', ['https://a', 3, null]);
    global.values.set('coderStatus.loopHistory', { w1: [1, 'x', 2], w2: 'nope' });
    workspace.values.set('coderStatus.pickedBinding', { owner: 7, workspace: 'dev' });
    const s = new PersistentState(global, workspace, windowKey(undefined, undefined));
    assert.equal(s.reconnectNotice, undefined);
    assert.deepEqual(s.deployments, ['https://a']);
    assert.deepEqual(s.dismissedDeployments, []);
    assert.deepEqual(s.loopHistory, { w1: [1, 2] });
    assert.deepEqual(s.pickedBinding, { owner: null, workspace: 'dev', agent: null });
  });

  it('writes global keys to global storage and workspace keys to workspace storage', async () => {
    const global = new MapMemento();
    const workspace = new MapMemento();
    const s = new PersistentState(global, workspace, windowKey(undefined, undefined));
    await s.setDeployments(['https://a']);
    await s.setDismissedDeployments(['https://b']);
    await s.setLoopHistory({ w: [1] });
    await s.setPickedBinding({ owner: 'alice', workspace: 'dev', agent: 'main', url: 'https://a' });
    await s.setBindingHistory({ entries: [] });
    await s.setOperations(new OperationSupport());
    await s.setStuckBuilds({ 'https://a|w': { builds: [3], lastAt: 1 } });
    assert.deepEqual([...global.keys()].sort(), [
      'coderStatus.deployments',
      'coderStatus.dismissedDeployments',
      'coderStatus.loopHistory',
      'coderStatus.repairRoutes',
      'coderStatus.stuckBuilds',
    ]);
    assert.deepEqual([...workspace.keys()].sort(), ['coderStatus.bindingHistory', 'coderStatus.pickedBinding']);
    assert.deepEqual(s.pickedBinding, { owner: 'alice', workspace: 'dev', agent: 'main', url: 'https://a' });
  });

  it('keeps what each deployment offers and the earlier stuck builds across reloads, tolerant of what was stored', async () => {
    const global = new MapMemento();
    const s = new PersistentState(global, new MapMemento(), windowKey(undefined, undefined));
    const ops = new OperationSupport();
    ops.setServerVersion('https://a', 'v2.24.1');
    ops.recordAnswer('https://a', 'replay', 404);
    await s.setOperations(ops);
    await s.setStuckBuilds({ 'https://a|w1': { builds: [2, 3], lastAt: 9 } });
    const reloaded = new PersistentState(global, new MapMemento(), windowKey(undefined, undefined));
    assert.equal(reloaded.operations.get('https://a', 'replay'), 'unsupported');
    assert.equal(reloaded.operations.serverVersion('https://a'), 'v2.24.1');
    assert.deepEqual(reloaded.stuckBuilds, { 'https://a|w1': { builds: [2, 3], lastAt: 9 } });
    global.values.set('coderStatus.repairRoutes', 'garbage');
    global.values.set('coderStatus.stuckBuilds', { ok: { builds: [4], lastAt: 1 }, bad: { builds: 'x' } });
    assert.equal(reloaded.operations.get('https://a', 'replay'), 'unknown');
    assert.deepEqual(reloaded.stuckBuilds, { ok: { builds: [4], lastAt: 1 } });
  });
});
