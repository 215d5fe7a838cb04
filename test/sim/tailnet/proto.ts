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

/** IDs are few and stable (a workspace's, its agents'), and written in every snapshot: kept as bytes. */
const idCache = new Map<string, Buffer>();
function idBytes(id: string): Buffer {
  let b = idCache.get(id);
  if (!b) {
    if (idCache.size > 100_000) idCache.clear();
    b = uuidBytes(id);
    idCache.set(id, b);
  }
  return b;
}

const varintLen = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

/** The bytes of a message of the update (a workspace or an agent), written in place. */
interface Part {
  field: number;
  id: string;
  name: string;
  nameLen: number;
  status?: number;
  workspaceId?: string;
  len: number;
}

function part(field: number, v: PbWorkspace | PbAgent): Part {
  const nameLen = Buffer.byteLength(v.name, 'utf8');
  let len = 18 + (nameLen ? 1 + varintLen(nameLen) + nameLen : 0);
  const status = 'status' in v ? v.status : undefined;
  const workspaceId = 'workspaceId' in v ? v.workspaceId : undefined;
  if (status) len += 1 + varintLen(status);
  if (workspaceId) len += 18;
  return { field, id: v.id, name: v.name, nameLen, status, workspaceId, len };
}

/**
 * Fields in number order, as Go's marshaller writes them; an empty update is zero bytes. Written into
 * one buffer sized up front: a snapshot of thousands of workspaces goes to every client that connects.
 */
export function encodeUpdate(u: PbUpdate): Buffer {
  const parts = [
    ...u.upsertedWorkspaces.map((w) => part(1, w)),
    ...u.upsertedAgents.map((a) => part(2, a)),
    ...u.deletedWorkspaces.map((w) => part(3, w)),
    ...u.deletedAgents.map((a) => part(4, a)),
  ];
  const buf = Buffer.allocUnsafe(parts.reduce((n, p) => n + 1 + varintLen(p.len) + p.len, 0));
  let at = 0;
  const varint = (n: number) => {
    while (n >= 0x80) {
      buf[at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[at++] = n;
  };
  const uuid = (field: number, id: string) => {
    buf[at++] = (field << 3) | 2;
    buf[at++] = 16;
    buf.set(idBytes(id), at);
    at += 16;
  };
  for (const p of parts) {
    buf[at++] = (p.field << 3) | 2;
    varint(p.len);
    uuid(1, p.id);
    if (p.nameLen) {
      buf[at++] = (2 << 3) | 2;
      varint(p.nameLen);
      if (p.nameLen === p.name.length) for (let i = 0; i < p.nameLen; i++) buf[at++] = p.name.charCodeAt(i);
      else at += buf.write(p.name, at, p.nameLen, 'utf8');
    }
    if (p.status) {
      buf[at++] = 3 << 3;
      varint(p.status);
    }
    if (p.workspaceId) uuid(3, p.workspaceId);
  }
  return buf;
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
