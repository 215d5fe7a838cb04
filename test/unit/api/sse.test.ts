import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, type SseEvent } from '../../../src/api/sse';

function parse(chunks: string[]): SseEvent[] {
  const out: SseEvent[] = [];
  const p = new SseParser((e) => out.push(e));
  for (const c of chunks) p.push(c);
  return out;
}

test('event and data lines end with a blank line', () => {
  assert.deepEqual(parse(['event: ping\n\nevent: data\ndata: {"a":1}\n\n']), [
    { event: 'ping', data: '' },
    { event: 'data', data: '{"a":1}' },
  ]);
});

test('chunks may split anywhere, including between CR and LF', () => {
  const text = 'event: data\r\ndata: {"x":"y"}\r\n\r\nevent: ping\r\n\r\n';
  for (let i = 1; i < text.length; i++) {
    assert.deepEqual(
      parse([text.slice(0, i), text.slice(i)]),
      [
        { event: 'data', data: '{"x":"y"}' },
        { event: 'ping', data: '' },
      ],
      `split at ${i}`,
    );
  }
});

test('comments are skipped, multi-line data is joined, an event without a blank line waits', () => {
  assert.deepEqual(parse([': keep-alive\n', 'data: a\ndata: b\n\n', 'event: data\ndata: pending\n']), [{ event: '', data: 'a\nb' }]);
});

test('a runaway line is dropped instead of growing without bound', () => {
  const out: SseEvent[] = [];
  const p = new SseParser((e) => out.push(e), 1024);
  p.push('data: ' + 'x'.repeat(4096));
  p.push('\n\nevent: ping\n\n');
  assert.deepEqual(out, [{ event: 'ping', data: '' }]);
});
