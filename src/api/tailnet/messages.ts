/**
 * The protobuf messages of the WorkspaceUpdates call (generated from tailnet.proto) turned into
 * plain values: UUIDs as canonical lowercase strings, statuses as the REST API's workspace status
 * names. Unknown status numbers are kept (`unknown:12`), never dropped.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { WORKSPACE_STATUSES, type WorkspaceStatus } from '../schemas';
import { TailnetProtocolError } from './protocolError';
import { WorkspaceUpdateSchema, WorkspaceUpdatesRequestSchema, type Agent, type Workspace } from './gen/tailnet_pb';

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
  return toBinary(WorkspaceUpdatesRequestSchema, create(WorkspaceUpdatesRequestSchema, { workspaceOwnerId: ownerId }));
}

export function decodeWorkspaceUpdate(data: Uint8Array): FleetDelta {
  let msg;
  try {
    msg = fromBinary(WorkspaceUpdateSchema, data, { readUnknownFields: false });
  } catch (e) {
    throw new TailnetProtocolError('protobuf', `WorkspaceUpdate does not decode: ${e instanceof Error ? e.message : String(e)}`);
  }
  return {
    upsertedWorkspaces: msg.upsertedWorkspaces.map(workspace),
    upsertedAgents: msg.upsertedAgents.map(agent),
    deletedWorkspaces: msg.deletedWorkspaces.map(workspace),
    deletedAgents: msg.deletedAgents.map(agent),
  };
}

function workspace(w: Workspace): FleetWorkspace {
  return { id: uuidText(w.id), name: w.name, status: statusName(w.status) };
}

function agent(a: Agent): FleetAgent {
  return { id: uuidText(a.id), name: a.name, workspaceId: uuidText(a.workspaceId) };
}
