/**
 * The yamux frame header (hashicorp/yamux spec.md): 12 bytes, big-endian: version, type, flags,
 * stream id, length. What `length` means depends on the type: payload bytes (data), window delta
 * (window update), opaque value (ping), reason code (go away).
 */
export const YAMUX_VERSION = 0;
export const HEADER_BYTES = 12;
/** Each stream's receive window, both ways, when it opens. */
export const INITIAL_WINDOW = 256 * 1024;

export const FrameType = { data: 0, windowUpdate: 1, ping: 2, goAway: 3 } as const;
export const Flag = { syn: 1, ack: 2, fin: 4, rst: 8 } as const;
export const GoAwayCode = { normal: 0, protocolError: 1, internalError: 2 } as const;

export interface YamuxHeader {
  version: number;
  type: number;
  flags: number;
  streamId: number;
  length: number;
}

export function encodeHeader(h: Omit<YamuxHeader, 'version'>): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  const view = new DataView(out.buffer);
  view.setUint8(0, YAMUX_VERSION);
  view.setUint8(1, h.type);
  view.setUint16(2, h.flags);
  view.setUint32(4, h.streamId >>> 0);
  view.setUint32(8, h.length >>> 0);
  return out;
}

/** Reads a header from exactly HEADER_BYTES bytes. */
export function decodeHeader(b: Uint8Array): YamuxHeader {
  const view = new DataView(b.buffer, b.byteOffset, HEADER_BYTES);
  return {
    version: view.getUint8(0),
    type: view.getUint8(1),
    flags: view.getUint16(2),
    streamId: view.getUint32(4),
    length: view.getUint32(8),
  };
}

/** A data frame: header and payload in one buffer. */
export function encodeData(streamId: number, flags: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  out.set(encodeHeader({ type: FrameType.data, flags, streamId, length: payload.length }));
  out.set(payload, HEADER_BYTES);
  return out;
}
