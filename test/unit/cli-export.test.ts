/** `docsight export`: the server's export body goes to stdout as it is; refusals become exit codes. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { runClientCommand } from '../../src/cli/index.ts';

const CSV = '\uFEFFpath,title\r\nClient/a.txt,"\'=1+1"\r\n';

describe('docsight export', () => {
  let server: Server;
  let url: string;
  const seen: { url?: string; auth?: string }[] = [];

  before(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      if (req.url?.startsWith('/v1/folders/Client/export')) {
        res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
        res.write(CSV.slice(0, 10));
        res.end(CSV.slice(10));
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'not_found', message: 'Folder not found: Other' } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const run = async (args: string[]) => {
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (c: Buffer) => chunks.push(c));
    let stderr = '';
    const code = await runClientCommand('export', args, {}, { stdout, stderr: { write: (s: string) => (stderr += s) } });
    return { code, out: Buffer.concat(chunks).toString('utf8'), stderr };
  };

  it('writes the export to stdout byte for byte, with the format and key it was given', async () => {
    const r = await run(['Client', '--format', 'csv', '--server', url, '--key', 'k1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.out, CSV);
    assert.deepEqual(seen.at(-1), { url: '/v1/folders/Client/export?format=csv', auth: 'Bearer k1' });
  });

  it('exits 2 with the server’s message for a folder it refuses, and on a bad format', async () => {
    const r = await run(['Other', '--server', url]);
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.match(r.stderr, /Folder not found: Other \[not_found\]/);
    const bad = await run(['Client', '--format', 'pdf', '--server', url]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format must be csv, jsonl or xlsx/);
  });
});
