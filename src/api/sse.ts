/**
 * Incremental parser of a text/event-stream body: `event:` and `data:` lines, a blank line
 * ends an event. Chunks may split lines anywhere (even between \r and \n).
 */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private sawField = false;

  constructor(
    private readonly emit: (e: SseEvent) => void,
    private readonly maxBuffer = 16 * 1024 * 1024,
  ) {}

  push(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A lone \r at the very end may be the first half of \r\n: wait for the next chunk.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      this.line(line);
    }
    if (this.buffer.length > this.maxBuffer) this.buffer = ''; // a runaway line is dropped, not kept in memory
  }

  private line(line: string): void {
    if (line === '') {
      if (this.sawField) {
        const e: SseEvent = { event: this.event, data: this.data.join('\n') };
        if (this.id !== undefined) e.id = this.id;
        this.emit(e);
      }
      this.event = '';
      this.data = [];
      this.sawField = false;
      return;
    }
    if (line.startsWith(':')) return; // comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.sawField = true;
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id') this.id = value;
  }
}
