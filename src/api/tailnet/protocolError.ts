/** A peer broke one of the tailnet layers' rules: the session ends and the owner reconnects. */
export type TailnetLayer = 'websocket' | 'yamux' | 'keepalive' | 'drpc' | 'rpc' | 'protobuf';

export class TailnetProtocolError extends Error {
  constructor(
    readonly layer: TailnetLayer,
    message: string,
  ) {
    super(`${layer}: ${message}`);
    this.name = 'TailnetProtocolError';
  }
}
