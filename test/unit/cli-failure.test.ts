/** The one line a failed command prints: what went wrong and what to do, whatever shape the error has. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { failureLine, reportFailure } from '../../src/cli/failure.ts';
import { AppError } from '../../src/domain/errors.ts';

const socketError = (code: string, address: string, port: number) => Object.assign(new Error(`connect ${code} ${address}:${port}`), { code, address, port });

function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe('failureLine', () => {
  it('names the address of a refused connection found behind a wrapper, and what to check', () => {
    const err = new Error('Migration failed: Error: connect ECONNREFUSED 127.0.0.1:5999', { cause: socketError('ECONNREFUSED', '127.0.0.1', 5999) });
    assert.equal(
      failureLine(err),
      'cannot connect to 127.0.0.1:5999 (ECONNREFUSED): check that the server runs there and that DATABASE_URL (or REDIS_URL) points to it',
    );
  });

  it('reads the attempts of an AggregateError with no message of its own (localhost tried on ::1 and 127.0.0.1)', () => {
    const err = Object.assign(new AggregateError([socketError('ECONNREFUSED', '::1', 5999), socketError('ECONNREFUSED', '127.0.0.1', 5999)], ''), {
      code: 'ECONNREFUSED',
    });
    assert.match(failureLine(err), /^cannot connect to ::1:5999 \(ECONNREFUSED\): check/);
  });

  it('points to DATABASE_URL when PostgreSQL refuses the login or lacks the database', () => {
    const login = Object.assign(new Error('password authentication failed for user "docsight"'), { code: '28P01' });
    assert.equal(failureLine(login), 'the database refused the login (password authentication failed for user "docsight"): check DATABASE_URL');
    const missing = Object.assign(new Error('database "nope" does not exist'), { code: '3D000' });
    assert.match(failureLine(missing), /^the database does not exist .*: check DATABASE_URL$/);
  });

  it('keeps an AppError message as written, and says how to see more for anything else', () => {
    assert.equal(failureLine(new AppError('conflict', 'DATA_DIR is in use: stop the other one')), 'DATA_DIR is in use: stop the other one');
    assert.equal(failureLine(new Error('disk full')), 'disk full (run it again with --debug for the details)');
  });
});

describe('reportFailure', () => {
  it('writes one line without --debug and the stack with it; exit 2 for an AppError, 1 otherwise', () => {
    const plain = capture();
    assert.equal(reportFailure(new Error('boom'), { debug: false, stderr: plain.stream }), 1);
    assert.equal(plain.text(), 'docsight: boom (run it again with --debug for the details)\n');

    const debug = capture();
    assert.equal(reportFailure(new AppError('bad_request', 'no'), { debug: true, stderr: debug.stream }), 2);
    assert.match(debug.text(), /^docsight: no\n/);
    assert.match(debug.text(), /^ {4}at /m);
  });
});
