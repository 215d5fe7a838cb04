/**
 * Bytes that arrive in pieces of any size (WebSocket messages, yamux frames) and are read in
 * frames of known length. Chunks are kept as they came and copied once, when a whole frame is
 * taken, so a frame split into many tiny pieces costs linear time, not quadratic, and what is
 * held is exactly `length` bytes plus the frames handed out.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private first = 0; // index of the first live chunk (shift() would be quadratic)
  private head = 0; // bytes of chunks[first] already consumed
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** The byte at `index` from the front, or undefined past the end. */
  at(index: number): number | undefined {
    if (index < 0 || index >= this.total) return undefined;
    let i = index + this.head;
    for (let k = this.first; k < this.chunks.length; k++) {
      const c = this.chunks[k]!;
      if (i < c.length) return c[i];
      i -= c.length;
    }
    return undefined;
  }

  /** Copies the first `n` bytes (n <= length) without consuming them. */
  peek(n: number): Uint8Array {
    return this.copy(n, false);
  }

  /** Removes and returns the first `n` bytes (n <= length). */
  take(n: number): Uint8Array {
    return this.copy(n, true);
  }

  /** Drops the first `n` bytes (n <= length). */
  skip(n: number): void {
    let left = Math.min(n, this.total);
    this.total -= left;
    while (left > 0) {
      const first = this.chunks[this.first];
      if (!first) break;
      const avail = first.length - this.head;
      if (left < avail) {
        this.head += left;
        break;
      }
      left -= avail;
      this.chunks[this.first] = EMPTY;
      this.first++;
      this.head = 0;
    }
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first > 64 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }

  clear(): void {
    this.chunks = [];
    this.first = 0;
    this.head = 0;
    this.total = 0;
  }

  private copy(n: number, consume: boolean): Uint8Array {
    if (n > this.total) throw new RangeError(`want ${n} bytes, have ${this.total}`);
    const first = this.chunks[this.first];
    // The common case: the whole frame sits in the first chunk.
    if (first && first.length - this.head >= n) {
      // A copy, never a view: a small frame kept for later must not pin the whole message it came in.
      const out = first.slice(this.head, this.head + n);
      if (consume) this.skip(n);
      return out;
    }
    const out = new Uint8Array(n);
    let written = 0;
    let offset = this.head;
    for (let k = this.first; k < this.chunks.length && written < n; k++) {
      const c = this.chunks[k]!;
      const part = c.subarray(offset, offset + (n - written));
      out.set(part, written);
      written += part.length;
      offset = 0;
    }
    if (consume) this.skip(n);
    return out;
  }
}

const EMPTY = new Uint8Array(0);
