/**
 * A real S3-compatible server on loopback (s3rver, its objects in a temp dir), started by the
 * test on a free port, and a client that writes to it as an organisation's own tools would.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** s3rver's fixed credentials (it checks the signature). */
export const S3RVER_CREDENTIALS = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

export interface TestS3 {
  endpoint: string;
  /** The server's process id (a bench reads its CPU time). */
  pid: number | undefined;
  client: S3Client;
  put(bucket: string, key: string, body: Uint8Array | string): Promise<void>;
  remove(bucket: string, key: string): Promise<void>;
  close(): Promise<void>;
}

/** The body of POST /v1/sources for a bucket of this server, with its credentials. */
export function s3SourceBody(s3: Pick<TestS3, 'endpoint'>, name: string, bucket: string) {
  return { name, kind: 's3', bucket, endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, ...S3RVER_CREDENTIALS };
}

export async function startS3(buckets: string[]): Promise<TestS3> {
  const directory = await mkdtemp(path.join(tmpdir(), 'docsight-s3-'));
  const server = await startS3rver(directory, buckets);
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    // A copy: the SDK marks the object it is given (a `$source` property).
    credentials: { ...S3RVER_CREDENTIALS },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    pid: server.pid,
    client,
    async put(bucket, key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async remove(bucket, key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async close() {
      client.destroy();
      await server.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * s3rver in a child process of its own: its ListObjectsV2 continuation tokens are DES-encrypted,
 * which OpenSSL 3 keeps in the legacy provider, so listing past one page fails with a 500 unless
 * the process starts with --openssl-legacy-provider. Only the fake server gets that flag; the code
 * under test runs without it, as it does against real S3.
 */
async function startS3rver(directory: string, buckets: string[]): Promise<{ port: number; pid: number | undefined; stop(): Promise<void> }> {
  const script = `
    const S3rver = require('s3rver');
    const server = new S3rver({ port: 0, address: '127.0.0.1', directory: process.argv[1], silent: true,
      configureBuckets: JSON.parse(process.argv[2]).map((name) => ({ name })) });
    server.run().then((a) => process.stdout.write(JSON.stringify({ port: a.port }) + '\\n'));
    process.stdin.on('end', () => server.close().then(() => process.exit(0)));
    process.stdin.resume();`;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script, directory, JSON.stringify(buckets)], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = (await Promise.race([
    once(createInterface({ input: child.stdout }), 'line'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`s3rver exited with ${String(code)} before it listened`);
    }),
  ])) as [string];
  const { port } = JSON.parse(line) as { port: number };
  return {
    port,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
