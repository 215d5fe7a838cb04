import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeWorkspaceUpdate,
  encodeWorkspaceUpdatesRequest,
  statusName,
  uuidBytes,
  uuidText,
} from '../../../../src/api/tailnet/messages';
import { OWNER, OWNER_BYTES, cat, hex, pbUpdate, toHex, uuid } from './wire';

test('UUIDs: text to the 16 raw bytes and back, canonical lowercase', () => {
  assert.deepEqual(uuidBytes(OWNER), OWNER_BYTES);
  assert.deepEqual(uuidBytes(OWNER.toUpperCase()), OWNER_BYTES);
  assert.equal(uuidText(OWNER_BYTES), OWNER);
  assert.equal(uuidBytes('not-a-uuid'), undefined);
  assert.equal(uuidText(hex('0102')), '0102');
});

test('the request is field 1, 16 bytes: 0a 10 + the owner id', () => {
  assert.equal(toHex(encodeWorkspaceUpdatesRequest(OWNER_BYTES)), '0a10' + toHex(OWNER_BYTES));
});

test('statuses map to the REST names; UNKNOWN and unknown numbers are kept', () => {
  const names = Array.from({ length: 11 }, (_, i) => statusName(i));
  assert.deepEqual(names, [
    'unknown:0',
    'pending',
    'starting',
    'running',
    'stopping',
    'stopped',
    'failed',
    'canceling',
    'canceled',
    'deleting',
    'deleted',
  ]);
  assert.equal(statusName(12), 'unknown:12');
});

test('a WorkspaceUpdate built by hand decodes to plain values', () => {
  const w1 = uuid(1);
  const w2 = uuid(2);
  const a1 = uuid(11);
  const a2 = uuid(12);
  const bytes = pbUpdate({
    up: [
      { id: w1.bytes, name: 'dev', status: 3 },
      { id: w2.bytes, name: 'odd', status: 12 },
    ],
    upAgents: [{ id: a1.bytes, name: 'main', workspaceId: w1.bytes }],
    del: [{ id: w2.bytes, name: 'gone', status: 9 }],
    delAgents: [{ id: a2.bytes, name: 'old', workspaceId: w1.bytes }],
  });
  assert.deepEqual(decodeWorkspaceUpdate(bytes), {
    upsertedWorkspaces: [
      { id: w1.text, name: 'dev', status: 'running' },
      { id: w2.text, name: 'odd', status: 'unknown:12' },
    ],
    upsertedAgents: [{ id: a1.text, name: 'main', workspaceId: w1.text }],
    deletedWorkspaces: [{ id: w2.text, name: 'gone', status: 'deleting' }],
    deletedAgents: [{ id: a2.text, name: 'old', workspaceId: w1.text }],
  });
});

test('an empty message (a member asking for another owner) is an empty update; unknown fields are ignored', () => {
  assert.deepEqual(decodeWorkspaceUpdate(new Uint8Array(0)), {
    upsertedWorkspaces: [],
    upsertedAgents: [],
    deletedWorkspaces: [],
    deletedAgents: [],
  });
  const withUnknown = cat(pbUpdate({ up: [{ id: uuid(1).bytes, name: 'x', status: 1 }] }), hex('2a 03 010203'), hex('30 05'));
  assert.equal(decodeWorkspaceUpdate(withUnknown).upsertedWorkspaces[0]?.status, 'pending');
});

test('bytes that are not a WorkspaceUpdate raise a protobuf-layer error', () => {
  for (const bad of [hex('0a 05 01'), hex('0a ff ff ff ff 0f'), hex('07'), hex('0b')]) {
    assert.throws(
      () => decodeWorkspaceUpdate(bad),
      (e: Error & { layer?: string }) => e.layer === 'protobuf',
    );
  }
});
