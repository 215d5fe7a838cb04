/** A logger for tests: keeps the lines, to assert what was logged (and that no secret ever is). */
import type { Logger } from '../../src/common/log';

/** Keeps lines in memory: for tests, and for asserting that no secret is ever logged. */
export class MemoryLogger implements Logger {
  readonly lines: string[] = [];
  trace(m: string): void {
    this.lines.push(`trace ${m}`);
  }
  debug(m: string): void {
    this.lines.push(`debug ${m}`);
  }
  info(m: string): void {
    this.lines.push(`info ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn ${m}`);
  }
  error(m: string): void {
    this.lines.push(`error ${m}`);
  }
}
