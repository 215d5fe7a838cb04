import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionWatchEventSchema, ServerSentEventSchema, WorkspaceSchema, safeParse } from '../../../src/api/schemas';
import { Fleet } from '../../../src/model/fleet';
import { classifyAgent } from '../../../src/model/lifecycle';
import { agent, workspace } from '../model/fixtures';

const valid = () => JSON.parse(JSON.stringify(workspace({ agents: [agent()] })));

test('a valid workspace parses; unknown fields are dropped', () => {
  const raw = { ...valid(), brand_new_field: { x: 1 } };
  raw.latest_build.resources[0].agents[0].another_field = [1, 2];
  const r = safeParse(WorkspaceSchema, raw);
  assert.ok(r.ok);
  assert.equal('brand_new_field' in r.value, false);
});

test('unknown enum values are kept, and shown as unknown', () => {
  const raw = valid();
  raw.latest_build.resources[0].agents[0].lifecycle_state = 'hibernating';
  raw.latest_build.status = 'frozen';
  const r = safeParse(WorkspaceSchema, raw);
  assert.ok(r.ok);
  const a = r.value.latest_build.resources[0]!.agents[0]!;
  assert.equal(a.lifecycle_state, 'hibernating');
  assert.equal(classifyAgent(a, Date.now()).label, 'unknown: hibernating');
});

test('malformed frames are rejected with a short reason, fields the extension does not decide on fall back', () => {
  const noId = valid();
  delete noId.id;
  const r = safeParse(WorkspaceSchema, noId);
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : '', /^id:/);
  const wrongVersion = valid();
  wrongVersion.latest_build.resources[0].agents[0].version = 42;
  assert.ok(safeParse(WorkspaceSchema, wrongVersion).ok, 'a wrong type in a display field does not lose the workspace');
  assert.equal(safeParse(ConnectionWatchEventSchema, { agent_update: { lifecycle: 'ready' } }).ok, false);
  assert.ok(safeParse(ConnectionWatchEventSchema, { error: null, agent_update: { lifecycle: 'ready', id: 'x' }, job_log: {} }).ok);
  assert.ok(safeParse(ServerSentEventSchema, { type: 'ping', data: null }).ok);
});

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

function mutate(value: unknown, r: () => number, depth = 0): unknown {
  const pick = r();
  if (pick < 0.05) return null;
  if (pick < 0.1) return 'x'.repeat(Math.floor(r() * 100_000));
  if (pick < 0.15) return Math.floor(r() * 1e9) - 5e8;
  if (pick < 0.2) return depth < 50 ? { nested: mutate(value, r, depth + 1) } : {};
  if (pick < 0.25) return ['unknown_enum_value', 'hibernating', ''][Math.floor(r() * 3)];
  if (Array.isArray(value)) return value.map((v) => (r() < 0.3 ? mutate(v, r, depth + 1) : v));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (r() < 0.05) continue;
      out[k] = r() < 0.2 ? mutate(v, r, depth + 1) : v;
    }
    if (r() < 0.1) out[`extra_${Math.floor(r() * 100)}`] = { deep: [1, { a: null }] };
    return out;
  }
  return value;
}

test('10,000 fuzzed frames: no crash, invalid ones leave the model unchanged, valid ones apply', () => {
  const r = rng(42);
  const fleet = new Fleet({ deploymentUrl: 'https://c' });
  const base = valid();
  fleet.apply({ kind: 'workspace', workspace: WorkspaceSchema.parse(base), at: 0 });
  let invalid = 0;
  let applied = 0;
  const kinds = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    let text = JSON.stringify(mutate(base, r));
    if (r() < 0.1) text = text.slice(0, Math.floor(r() * text.length)); // truncated JSON
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      invalid++;
      kinds.add('json');
      continue;
    }
    const before = JSON.stringify(fleet.workspaces());
    const res = safeParse(WorkspaceSchema, parsed);
    if (!res.ok) {
      invalid++;
      kinds.add(res.reason.split(':')[0]!);
      assert.equal(JSON.stringify(fleet.workspaces()), before, 'an invalid frame changes nothing');
      continue;
    }
    assert.doesNotThrow(() => fleet.apply({ kind: 'workspace', workspace: res.value, at: i }));
    applied++;
  }
  // The stream goes on: a good frame after all that garbage still lands.
  const good = WorkspaceSchema.parse(valid());
  fleet.apply({ kind: 'workspace', workspace: good, at: 10_001 });
  assert.equal(fleet.workspace(good.id)?.name, 'dev');
  console.log(`# fuzz: 10,000 frames, ${invalid} rejected (${kinds.size} kinds of reason), ${applied} applied, 0 crashes`);
  assert.ok(invalid > 1000 && applied > 1000, 'the fuzzer exercises both paths');
});
