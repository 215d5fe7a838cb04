import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findByKey, keyOfAgent, keyOfNamed, parentNameAmong, pickedIsBound, sameAgent, sameAgentOf } from '../../../src/model/agentKey';
import { agent } from './fixtures';

const WS = 'ws-1';

test('the same agent: same workspace, name and parent; a sub-agent is not the top-level agent of the same name', () => {
  const top = { workspaceId: WS, name: 'main', parentName: null };
  assert.equal(sameAgent(top, { ...top }), true);
  assert.equal(sameAgent(top, { ...top, parentName: 'main' }), false);
  assert.equal(sameAgent(top, { ...top, workspaceId: 'ws-2' }), false);
  assert.equal(sameAgent(top, { ...top, name: 'other' }), false);
  assert.equal(sameAgent(top, undefined), false);
  assert.equal(sameAgent(undefined, undefined), false);
  assert.equal(sameAgent(keyOfNamed({ workspaceId: WS, agentName: 'main', parentName: null }), top), true);
});

test('the same agent of the same deployment', () => {
  const a = { session: 'a', workspaceId: WS, name: 'main', parentName: null };
  assert.equal(sameAgentOf(a, { ...a }), true);
  assert.equal(sameAgentOf(a, { ...a, session: 'b' }), false);
});

test('keys and lookups among the agents of a build', () => {
  const parent = agent({ name: 'main' });
  const child = agent({ name: 'main', parent_id: parent.id });
  const agents = [child, parent];
  assert.equal(parentNameAmong(agents, child), 'main');
  assert.equal(parentNameAmong(agents, parent), null);
  assert.equal(parentNameAmong([child], child), null, 'the parent is not in the build');
  assert.deepEqual(keyOfAgent(WS, agents, child), { workspaceId: WS, name: 'main', parentName: 'main' });
  assert.equal(findByKey(agents, { workspaceId: WS, name: 'main', parentName: null }), parent);
  assert.equal(findByKey(agents, { workspaceId: WS, name: 'main', parentName: 'main' }), child);
});

test('the reconnect command refuses a sub-agent that shares the bound top-level agent name', () => {
  const bound = { session: 's', workspaceId: WS, name: 'main', parentName: null };
  assert.equal(pickedIsBound({ ...bound }, bound), true);
  assert.equal(pickedIsBound({ ...bound, parentName: 'main' }, bound), false, 'the dev-container sub-agent "main" is another agent');
  assert.equal(pickedIsBound({ ...bound, session: 't' }, bound), false);
});
