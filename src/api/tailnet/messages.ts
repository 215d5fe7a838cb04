/**
 * The protobuf messages of the WorkspaceUpdates call, as defined in tailnet.proto, turned into
 * plain values: UUIDs as canonical lowercase strings, statuses as the REST API's workspace status
 * names. Unknown status numbers are kept (`unknown:12`), never dropped; unknown fields are skipped.
 *
 * Read and written with @bufbuild/protobuf's wire layer (BinaryReader/BinaryWriter) rather than
 * the generated reflection code: the generated runtime costs about 56 KB more in the bundle, and
 * these four small messages do not need it. The generated code (gen/, `npm run proto`) stays as
 * the tests' oracle: both must read every message alike.
 */
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { WORKSPACE_STATUSES, type WorkspaceStatus } from '../schemas';
import { TailnetProtocolError } from './protocolError';

export const WORKSPACE_UPDATES_RPC = '/coder.tailnet.v2.Tailnet/WorkspaceUpdates';

export type FleetWorkspaceStatus = WorkspaceStatus | `unknown:${number}`;

export interface FleetWorkspace {
  id: string;
  name: string;
  status: FleetWorkspaceStatus;
}

export interface FleetAgent {
  id: string;
  name: string;
  workspaceId: string;
}

/** One pushed message, decoded. */
export interface FleetDelta {
  upsertedWorkspaces: FleetWorkspace[];
  upsertedAgents: FleetAgent[];
  deletedWorkspaces: FleetWorkspace[];
  deletedAgents: FleetAgent[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The 16 bytes of a UUID string; undefined if it is not one. */
export function uuidBytes(uuid: string): Uint8Array | undefined {
  if (!UUID.test(uuid)) return undefined;
  const hex = uuid.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Canonical lowercase text of 16 bytes; other lengths (a misbehaving server) as plain hex. */
export function uuidText(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  if (bytes.length !== 16) return hex;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The proto enum numbers 1..10 are the REST names in order; 0 (UNKNOWN) and others are kept as numbers. */
export function statusName(n: number): FleetWorkspaceStatus {
  const known = n >= 1 ? WORKSPACE_STATUSES[n - 1] : undefined;
  return known ?? `unknown:${n}`;
}

export function encodeWorkspaceUpdatesRequest(ownerId: Uint8Array): Uint8Array {
  return new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(ownerId).finish();
}

export function decodeWorkspaceUpdate(data: Uint8Array): FleetDelta {
  const out: FleetDelta = { upsertedWorkspaces: [], upsertedAgents: [], deletedWorkspaces: [], deletedAgents: [] };
  try {
    fields(data, (no, wt, r) => {
      switch (no) {
        case 1:
          return out.upsertedWorkspaces.push(workspace(bytesOf(no, wt, r))) > 0;
        case 2:
          return out.upsertedAgents.push(agent(bytesOf(no, wt, r))) > 0;
        case 3:
          return out.deletedWorkspaces.push(workspace(bytesOf(no, wt, r))) > 0;
        case 4:
          return out.deletedAgents.push(agent(bytesOf(no, wt, r))) > 0;
        default:
          return false;
      }
    });
  } catch (e) {
    throw new TailnetProtocolError('protobuf', `WorkspaceUpdate does not decode: ${e instanceof Error ? e.message : String(e)}`);
  }
  return out;
}

/** Calls `field` for every field; it returns false for a field it does not know (then skipped). */
function fields(data: Uint8Array, field: (no: number, wt: WireType, r: BinaryReader) => boolean): void {
  const r = new BinaryReader(data);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (!field(no, wt, r)) r.skip(wt, no);
  }
}

function expect(no: number, wt: WireType, want: WireType): void {
  if (wt !== want) throw new Error(`field ${no} has wire type ${wt}, not ${want}`);
}

function bytesOf(no: number, wt: WireType, r: BinaryReader): Uint8Array {
  expect(no, wt, WireType.LengthDelimited);
  return r.bytes();
}

/** proto3 strings are UTF-8: like the generated code, invalid bytes are an error. */
function stringOf(no: number, wt: WireType, r: BinaryReader): string {
  expect(no, wt, WireType.LengthDelimited);
  return r.string(true);
}

function workspace(data: Uint8Array): FleetWorkspace {
  let id: Uint8Array = new Uint8Array(0);
  let name = '';
  let status = 0;
  fields(data, (no, wt, r) => {
    if (no === 1) id = bytesOf(no, wt, r);
    else if (no === 2) name = stringOf(no, wt, r);
    else if (no === 3) {
      expect(no, wt, WireType.Varint);
      status = r.int32();
    } else return false;
    return true;
  });
  return { id: uuidText(id), name, status: statusName(status) };
}

function agent(data: Uint8Array): FleetAgent {
  let id: Uint8Array = new Uint8Array(0);
  let name = '';
  let workspaceId: Uint8Array = new Uint8Array(0);
  fields(data, (no, wt, r) => {
    if (no === 1) id = bytesOf(no, wt, r);
    else if (no === 2) name = stringOf(no, wt, r);
    else if (no === 3) workspaceId = bytesOf(no, wt, r);
    else return false;
    return true;
  });
  return { id: uuidText(id), name, workspaceId: uuidText(workspaceId) };
}
