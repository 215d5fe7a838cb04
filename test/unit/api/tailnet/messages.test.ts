import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeWorkspaceUpdate,
  encodeWorkspaceUpdatesRequest,
  statusName,
  uuidBytes,
  uuidText,
} from '../../../../src/api/tailnet/messages';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  AgentSchema,
  WorkspaceSchema,
  WorkspaceUpdateSchema,
  WorkspaceUpdatesRequestSchema,
} from '../../../../src/api/tailnet/gen/tailnet_pb';
import { OWNER, OWNER_BYTES, cat, hex, pbUpdate, prng, toHex, uuid } from './wire';

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

// ------------------------------------------------------------------ the generated code as oracle

function viaGenerated(bytes: Uint8Array) {
  const m = fromBinary(WorkspaceUpdateSchema, bytes);
  const ws = (w: { id: Uint8Array; name: string; status: number }) => ({ id: uuidText(w.id), name: w.name, status: statusName(w.status) });
  const ag = (a: { id: Uint8Array; name: string; workspaceId: Uint8Array }) => ({
    id: uuidText(a.id),
    name: a.name,
    workspaceId: uuidText(a.workspaceId),
  });
  return {
    upsertedWorkspaces: m.upsertedWorkspaces.map(ws),
    upsertedAgents: m.upsertedAgents.map(ag),
    deletedWorkspaces: m.deletedWorkspaces.map(ws),
    deletedAgents: m.deletedAgents.map(ag),
  };
}

test('2,000 messages encoded by the generated code (from tailnet.proto) decode the same by hand', () => {
  const r = prng(42);
  const n = (k: number) => Math.floor(r() * k);
  const names = ['dev', 'ünïcödé', '', 'a'.repeat(300), '名前'];
  for (let i = 0; i < 2000; i++) {
    const w = () => create(WorkspaceSchema, { id: uuid(n(1e6)).bytes, name: names[n(names.length)]!, status: n(14) });
    const a = () => create(AgentSchema, { id: uuid(n(1e6)).bytes, name: names[n(names.length)]!, workspaceId: uuid(n(1e6)).bytes });
    const list = <T>(f: () => T) => Array.from({ length: n(4) }, f);
    const msg = create(WorkspaceUpdateSchema, {
      upsertedWorkspaces: list(w),
      upsertedAgents: list(a),
      deletedWorkspaces: list(w),
      deletedAgents: list(a),
    });
    const bytes = toBinary(WorkspaceUpdateSchema, msg);
    assert.deepEqual(decodeWorkspaceUpdate(bytes), viaGenerated(bytes));
  }
  const req = create(WorkspaceUpdatesRequestSchema, { workspaceOwnerId: OWNER_BYTES });
  assert.deepEqual(encodeWorkspaceUpdatesRequest(OWNER_BYTES), toBinary(WorkspaceUpdatesRequestSchema, req));
});

test('on 5,000 mutated messages, whatever the hand decoder accepts the generated code reads alike', () => {
  const r = prng(43);
  const n = (k: number) => Math.floor(r() * k);
  let accepted = 0;
  for (let i = 0; i < 5000; i++) {
    const bytes = pbUpdate({
      up: [{ id: uuid(n(100)).bytes, name: `w${n(9)}`, status: n(12) }],
      upAgents: [{ id: uuid(n(100)).bytes, name: 'main', workspaceId: uuid(n(100)).bytes }],
      delAgents: n(2) ? [{ id: uuid(n(100)).bytes, name: 'old', workspaceId: uuid(n(100)).bytes }] : [],
    });
    for (let k = 0, flips = 1 + n(3); k < flips; k++) {
      const at = n(bytes.length);
      bytes[at] = (bytes[at] ?? 0) ^ (1 << n(8));
    }
    let mine;
    try {
      mine = decodeWorkspaceUpdate(bytes);
    } catch (e) {
      assert.equal((e as { layer?: string }).layer, 'protobuf');
      continue;
    }
    accepted++;
    assert.deepEqual(mine, viaGenerated(bytes));
  }
  assert.ok(accepted > 500, `${accepted} accepted`);
});
