/**
 * An S3-compatible bucket (AWS S3, MinIO, R2, Ceph) as a source, through the official client.
 * Listing streams ListObjectsV2 pages (one page held, the next one fetched while it is consumed),
 * "folders" are key prefixes, and an object is read into one buffer bounded by MAX_FILE_MB after
 * its Content-Length said it fits and the caller made room for it (`hold`): the extraction thread
 * needs random access for zip-based formats, and the caller keeps the bytes held within one
 * largest object per extraction thread (extraction.service.ts).
 * Failures leave here as JobFailures with a code: throttling, unreachable endpoints and refused
 * credentials each have their own.
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type ListObjectsV2CommandOutput, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { JobFailure } from '../domain/errors.ts';
import { fileMtime, parentOf } from '../domain/paths.ts';
import type { FetchedDocument, SourceEntry, SourceReader } from './source-reader.ts';

// The SDK warns once per process that a future release will need Node 22; its documented switch
// silences it (docsight pins its SDK version, and Node 20 is the supported runtime).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface S3SourceSettings {
  name: string;
  bucket: string;
  /** Key prefix, '' or ending in '/'. */
  prefix: string;
  endpoint: string | null;
  region: string | null;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
  timeoutMs: number;
  maxAttempts: number;
}

const DENIED = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'TokenRefreshRequired', 'InvalidToken', 'CredentialsProviderError', 'AllAccessDisabled']);
const THROTTLED = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequests', 'TooManyRequestsException', 'RequestLimitExceeded']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'TimeoutError', 'RequestTimeout']);

/** The code a failed request to a bucket ends the job with (the SDK has retried what it could). */
export function s3Failure(source: string, err: unknown): JobFailure {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; message?: string } | null;
  const name = e?.name ?? '';
  const code = e?.code ?? '';
  const status = e?.$metadata?.httpStatusCode;
  const what = `${name || code || 'error'}${status ? ` (HTTP ${status})` : ''}`;
  if (DENIED.has(name) || status === 403 || status === 401) {
    return new JobFailure('source_denied', `Source ${source}: the bucket refused the credentials: ${what}`);
  }
  if (THROTTLED.has(name) || status === 503 || status === 429) {
    return new JobFailure('source_throttled', `Source ${source}: the bucket kept throttling requests: ${what}`);
  }
  if (name === 'NoSuchBucket') return new JobFailure('folder_unavailable', `Source ${source}: the bucket does not exist`);
  if (UNREACHABLE.has(name) || UNREACHABLE.has(code) || status === undefined) {
    return new JobFailure('source_unreachable', `Source ${source}: the endpoint cannot be reached: ${what}`);
  }
  return new JobFailure('scan_failed', `Source ${source}: the bucket answered ${what}`);
}

/** A key below the prefix as a path docsight accepts, or null (".." or "." segments, empty segments, control characters). */
function keyPath(relKey: string): string | null {
  if (relKey === '' || relKey.endsWith('/')) return null;
  // biome-ignore lint: control characters are exactly what we refuse here
  if (/[\u0000-\u001f\u007f\\]/.test(relKey)) return null;
  for (const s of relKey.split('/')) {
    if (s === '' || s === '.' || s === '..' || Buffer.byteLength(s) > 255) return null;
  }
  return relKey;
}

export function createS3Source(settings: S3SourceSettings, isIgnoredName: (name: string) => boolean): SourceReader & { close(): void } {
  const config: S3ClientConfig = {
    region: settings.region ?? 'us-east-1',
    forcePathStyle: settings.forcePathStyle,
    maxAttempts: settings.maxAttempts,
    requestHandler: { connectionTimeout: Math.min(settings.timeoutMs, 10_000), requestTimeout: settings.timeoutMs },
    // S3-compatible servers do not all know the newer CRC checksums; ETag and size are what we compare.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    // Each command's middleware stack is resolved once per client instead of on every request (a
    // tenth of a GetObject's CPU on small objects); docsight adds no middleware to a command.
    cacheMiddleware: true,
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
  };
  const client = new S3Client(config);
  const { name, bucket, prefix } = settings;

  /** The key prefix of a folder path (the source's name first). */
  const keyPrefixOf = (folderRel: string): string => {
    const inside = folderRel === name ? '' : folderRel.slice(name.length + 1);
    return inside === '' ? prefix : `${prefix}${inside}/`;
  };
  const keyOf = (docRel: string): string => `${prefix}${docRel.slice(name.length + 1)}`;

  const page = async (Prefix: string, ContinuationToken: string | undefined): Promise<ListObjectsV2CommandOutput> => {
    try {
      return await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix, MaxKeys: 1000, ...(ContinuationToken ? { ContinuationToken } : {}) }));
    } catch (err) {
      throw s3Failure(name, err);
    }
  };

  async function get(docRel: string, maxBytes: number, hold?: (bytes: number) => Promise<void>): Promise<FetchedDocument> {
    let res;
    try {
      res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(docRel) }));
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return { kind: 'missing' };
      throw s3Failure(name, err);
    }
    const body = res.Body as Readable | undefined;
    const size = res.ContentLength ?? 0;
    const mtime = fileMtime({ mtimeMs: res.LastModified?.getTime() ?? 0 });
    const etag = res.ETag ?? null;
    if (!body) return { kind: 'missing' };
    if (size > maxBytes) {
      // Refused on its announced size: the body is dropped, never read.
      body.destroy();
      return { kind: 'too_large', size, mtime, etag };
    }
    await hold?.(size);
    const bytes = new Uint8Array(size);
    let at = 0;
    try {
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        if (at + chunk.length > size) {
          body.destroy();
          return { kind: 'too_large', size: at + chunk.length, mtime, etag };
        }
        bytes.set(chunk, at);
        at += chunk.length;
      }
    } catch (err) {
      throw s3Failure(name, err);
    }
    return { kind: 'ready', size: at, mtime, etag, input: { bytes: at === size ? bytes : bytes.subarray(0, at) } };
  }

  return {
    name,
    async *list(folderRel, events) {
      const keyPrefix = keyPrefixOf(folderRel);
      // Folders are the prefixes of the keys: each is told once while the listing is inside it.
      let chain = new Set<string>([folderRel]);
      events.onFolder?.(folderRel);
      const enter = (folder: string) => {
        if (chain.has(folder)) return;
        const next = new Set<string>();
        const fresh: string[] = [];
        for (let f = folder; ; f = parentOf(f)) {
          next.add(f);
          if (!chain.has(f)) fresh.push(f);
          if (f === folderRel || f === '') break;
        }
        chain = next;
        for (const f of fresh.reverse()) events.onFolder?.(f);
      };
      let pending: Promise<ListObjectsV2CommandOutput> | null = page(keyPrefix, undefined);
      while (pending) {
        const current: ListObjectsV2CommandOutput = await pending;
        // The next page is on its way while this one is consumed; at most two pages are held.
        pending = current.IsTruncated && current.NextContinuationToken ? page(keyPrefix, current.NextContinuationToken) : null;
        // Not awaited yet: a failure is reported when its turn comes, not as an unhandled rejection.
        pending?.catch(() => undefined);
        for (const o of current.Contents ?? []) {
          if (!o.Key) continue;
          const relKey = keyPath(o.Key.slice(prefix.length));
          if (relKey === null) {
            if (!o.Key.endsWith('/')) events.onIgnored?.(`${name}/${o.Key.slice(prefix.length)}`, 'ignored_name');
            continue;
          }
          const rel = `${name}/${relKey}`;
          const fileName = relKey.slice(relKey.lastIndexOf('/') + 1);
          if (isIgnoredName(fileName) || relKey.split('/').some((s) => s.startsWith('.'))) {
            events.onIgnored?.(rel, 'ignored_name');
            continue;
          }
          enter(parentOf(rel));
          const entry: SourceEntry = { rel, name: fileName, size: o.Size ?? 0, mtime: fileMtime({ mtimeMs: o.LastModified?.getTime() ?? 0 }), etag: o.ETag ?? null };
          yield entry;
        }
      }
    },
    fetch: get,
    async exists(docRel) {
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: keyOf(docRel) }));
        return true;
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return false;
        throw s3Failure(name, err);
      }
    },
    async readAll(docRel, maxBytes) {
      const got = await get(docRel, maxBytes);
      if (got.kind !== 'ready' || !('bytes' in got.input)) throw new JobFailure('scan_failed', `Source ${name}: ${docRel} can no longer be read`);
      return got.input.bytes;
    },
    close: () => client.destroy(),
  };
}
