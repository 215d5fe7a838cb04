/**
 * A dRPC server connection on one yamux stream, the way drpcserver serves a transport: an Invoke
 * starts a call (an unknown rpc gets Error code 0 at once), its first Message is the request, and the
 * server's packets on that call are numbered 1, 2, 3, ... A protocol violation ends the transport.
 * The call lasts until it is closed here or the client closes the stream.
 */
import { DrpcProtocolError, encodePacket, errorData, KIND, PacketReader } from './drpc';
import type { YamuxStream } from './yamux';

export const WORKSPACE_UPDATES = '/coder.tailnet.v2.Tailnet/WorkspaceUpdates';

export class Call {
  private nextMessage = 1;
  finished = false;
  onEnd: () => void = () => {};

  constructor(
    readonly stream: number,
    readonly rpc: string,
    private readonly out: YamuxStream,
  ) {}

  private send(kind: number, data: Buffer): void {
    if (this.finished) return;
    for (const frame of encodePacket(kind, this.stream, this.nextMessage++, data)) this.out.write(frame);
  }

  message(data: Buffer): void {
    this.send(KIND.message, data);
  }

  /** Raw bytes on the call's transport, for the faults that break the framing on purpose. */
  raw(b: Buffer): void {
    if (!this.finished) this.out.write(b);
  }

  error(code: number, text: string): void {
    this.send(KIND.error, errorData(code, text));
    this.end();
  }

  close(): void {
    this.send(KIND.close, Buffer.alloc(0));
    this.end();
  }

  /** The next message id this call would use (for a fault that sends a broken frame in sequence). */
  get nextId(): number {
    return this.nextMessage;
  }

  end(): void {
    if (this.finished) return;
    this.finished = true;
    this.onEnd();
  }
}

export class DrpcConn {
  private readonly reader = new PacketReader();
  private call: Call | undefined;
  private awaitingRequest = false;

  constructor(
    private readonly transport: YamuxStream,
    private readonly serve: (call: Call, request: Buffer) => void,
  ) {
    transport.onData = (b) => this.data(b);
    transport.onEnd = () => {
      this.call?.end();
      // The client half-closed: drpc's manager sees EOF and closes the transport in turn.
      transport.close();
    };
  }

  private data(b: Buffer): void {
    let packets;
    try {
      packets = this.reader.push(b);
    } catch (e) {
      if (!(e instanceof DrpcProtocolError)) throw e;
      this.call?.end();
      this.transport.close();
      return;
    }
    for (const p of packets) {
      if (p.kind === KIND.invokeMetadata) continue;
      if (p.kind === KIND.invoke) {
        this.call?.end();
        const call = new Call(p.stream, p.data.toString('utf8'), this.transport);
        this.call = call;
        this.awaitingRequest = call.rpc === WORKSPACE_UPDATES;
        if (!this.awaitingRequest) call.error(0, `protocol error: unknown rpc: ${JSON.stringify(call.rpc)}`);
        continue;
      }
      const call = this.call;
      if (!call || call.finished || p.stream !== call.stream) continue;
      if (p.kind === KIND.message && this.awaitingRequest) {
        this.awaitingRequest = false;
        this.serve(call, p.data);
      } else if (p.kind === KIND.close || p.kind === KIND.error) call.end();
    }
  }
}
