import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSseParser } from '../../src/sse-parser.ts';

describe('the events stream parser shared by the CLI and the dashboard', () => {
  it('returns named events with their data, skipping keep-alive comments', () => {
    const parse = createSseParser();
    assert.deepEqual(parse(': ping\n\nevent: progress\ndata: {"a":1}\n\nevent: end\ndata: {}\n\n'), [
      { event: 'progress', data: '{"a":1}' },
      { event: 'end', data: '{}' },
    ]);
  });

  it('holds an event split across chunks, even inside a line or a CRLF, until it is complete', () => {
    const parse = createSseParser();
    assert.deepEqual(parse('event: prog'), []);
    assert.deepEqual(parse('ress\r'), []);
    assert.deepEqual(parse('\ndata: {"done"'), []);
    assert.deepEqual(parse(':3}\r\n\r'), []);
    assert.deepEqual(parse('\ndata: x\n\n'), [{ event: 'progress', data: '{"done":3}' }, { event: 'message', data: 'x' }]);
  });

  it('joins multi-line data, takes the value after one optional space and ignores blocks without data', () => {
    const parse = createSseParser();
    assert.deepEqual(parse('data:a\ndata:  b\nid: 7\n\nevent: nothing\n\n'), [{ event: 'message', data: 'a\n b' }]);
  });
});
