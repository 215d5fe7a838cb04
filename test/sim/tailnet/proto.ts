/**
 * The protobuf messages of `coder.tailnet.v2` the simulator speaks, encoded by hand: the server only
 * writes `WorkspaceUpdate` and only reads `WorkspaceUpdatesRequest`, so two small functions do it.
 */

/** `Workspace.Status`, by the REST status name it is derived from. */
export const WORKSPACE_STATUS: Record<string, number> = {
  pending: 1,
  starting: 2,
  running: 3,
  stopping: 4,
  stopped: 5,
  failed: 6,
  canceling: 7,
  canceled: 8,
  deleting: 9,
  deleted: 10,
};

export interface PbWorkspace {
  id: string;
  name: string;
  status: number;
}

export interface PbAgent {
  id: string;
  name: string;
  workspaceId: string;
}

export interface PbUpdate {
  upsertedWorkspaces: PbWorkspace[];
  upsertedAgents: PbAgent[];
  deletedWorkspaces: PbWorkspace[];
  deletedAgents: PbAgent[];
}

export const emptyUpdate = (): PbUpdate => ({ upsertedWorkspaces: [], upsertedAgents: [], deletedWorkspaces: [], deletedAgents: [] });

export function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

export function uuidString(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function uvarint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** A length-delimited field (wire type 2). */
function lenField(field: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...uvarint(data.length)]), data]);
}

function workspaceBytes(w: PbWorkspace): Buffer {
  const parts = [lenField(1, uuidBytes(w.id))];
  if (w.name) parts.push(lenField(2, Buffer.from(w.name, 'utf8')));
  if (w.status) parts.push(Buffer.from([(3 << 3) | 0, ...uvarint(w.status)]));
  return Buffer.concat(parts);
}

function agentBytes(a: PbAgent): Buffer {
  const parts = [lenField(1, uuidBytes(a.id))];
  if (a.name) parts.push(lenField(2, Buffer.from(a.name, 'utf8')));
  parts.push(lenField(3, uuidBytes(a.workspaceId)));
  return Buffer.concat(parts);
}

/** Fields in number order, as Go's marshaller writes them; an empty update is zero bytes. */
export function encodeUpdate(u: PbUpdate): Buffer {
  return Buffer.concat([
    ...u.upsertedWorkspaces.map((w) => lenField(1, workspaceBytes(w))),
    ...u.upsertedAgents.map((a) => lenField(2, agentBytes(a))),
    ...u.deletedWorkspaces.map((w) => lenField(3, workspaceBytes(w))),
    ...u.deletedAgents.map((a) => lenField(4, agentBytes(a))),
  ]);
}

export class ProtoError extends Error {}

function readVarint(b: Buffer, at: number): [number, number] {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (at + i >= b.length) throw new ProtoError('proto: unexpected end of varint');
    const byte = b[at + i]!;
    n += (byte & 0x7f) * mul;
    mul *= 0x80;
    if (byte < 0x80) return [n, at + i + 1];
  }
  throw new ProtoError('proto: varint overflow');
}

/** `WorkspaceUpdatesRequest.workspace_owner_id` (the last occurrence wins); unknown fields are skipped. */
export function decodeRequest(b: Buffer): Buffer {
  let owner: Buffer = Buffer.alloc(0);
  let at = 0;
  while (at < b.length) {
    const [tag, next] = readVarint(b, at);
    at = next;
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 0) throw new ProtoError('proto: invalid field number');
    if (wire === 0) at = readVarint(b, at)[1];
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const [len, start] = readVarint(b, at);
      if (start + len > b.length) throw new ProtoError('proto: cannot parse invalid wire-format data');
      if (field === 1) owner = b.subarray(start, start + len);
      at = start + len;
    } else throw new ProtoError('proto: cannot parse invalid wire-format data');
    if (at > b.length) throw new ProtoError('proto: cannot parse invalid wire-format data');
  }
  return owner;
}
