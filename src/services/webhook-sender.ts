/**
 * Calling a webhook receiver safely. Only http(s) URLs; unless private addresses are allowed, the
 * host is resolved, every address checked (domain/addresses.ts), and the connection made to the
 * address that was checked (a custom `lookup`), so a name that resolves to a public address for
 * the check and to 127.0.0.1 for the connection (DNS rebinding) still cannot reach inside.
 * Redirects are not followed; a receiver that does not answer within the timeout is cut off; at
 * most a small piece of the answer is read.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { nonPublicReason } from '../domain/addresses.ts';
import { AppError } from '../domain/errors.ts';

/** Bytes of a receiver's answer read at most (kept as the attempt's error excerpt). */
const MAX_RESPONSE_BYTES = 1024;
const MAX_URL_LENGTH = 2048;

export interface SendResult {
  /** The receiver's HTTP status; null when there was none (refused, unreachable, timed out). */
  statusCode: number | null;
  /** Why the attempt failed; null when it was delivered (2xx). */
  error: string | null;
  durationMs: number;
}

export interface SenderOptions {
  allowPrivate: boolean;
  timeoutMs: number;
}

const refused = (message: string) => new AppError('url_not_allowed', message);

const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** The address refused for `ip`, as an error message, or null. */
function refusal(host: string, ip: string): string | null {
  const why = nonPublicReason(ip);
  return why === null ? null : host === ip ? `${host} is a ${why} address` : `${host} resolves to ${ip}, a ${why} address`;
}

function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));
}

/**
 * A URL a webhook may have, normalised; throws `url_not_allowed` (400) for anything else: not
 * http(s), credentials in it, or (unless allowed) a host that is or resolves to a non-public
 * address, or does not resolve at all.
 */
export async function checkWebhookUrl(input: string, opts: Pick<SenderOptions, 'allowPrivate'>): Promise<string> {
  if (input.length > MAX_URL_LENGTH) throw refused(`The URL is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw refused('Not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused('Only http and https URLs are allowed');
  if (url.username || url.password) throw refused('Credentials in the URL are not allowed: receivers check the signature instead');
  url.hash = '';
  if (opts.allowPrivate) return url.toString();
  const host = hostOf(url);
  if (isIP(host)) {
    const why = refusal(host, host);
    if (why) throw refused(`${why} (set WEBHOOK_ALLOW_PRIVATE=true to allow it)`);
    return url.toString();
  }
  let addresses: LookupAddress[];
  try {
    addresses = await resolveAll(host);
  } catch {
    throw refused(`${host} does not resolve`);
  }
  for (const a of addresses) {
    const why = refusal(host, a.address);
    if (why) throw refused(`${why} (set WEBHOOK_ALLOW_PRIVATE=true to allow it)`);
  }
  return url.toString();
}

/** DNS lookup for the connection itself: refuses (as a connection error) any non-public address. */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { all: true, verbatim: true, family: options.family ?? 0 }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const bad = addresses.map((a) => refusal(hostname, a.address)).find((why) => why !== null);
    if (bad || addresses.length === 0) {
      return callback(Object.assign(new Error(bad ?? `${hostname} does not resolve`), { code: 'EADDRNOTALLOWED' }), '', 0);
    }
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0] as LookupAddress;
    return callback(null, first.address, first.family);
  });
};

const printable = (text: string) => text.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 200);

/** POST `body` to `url` once; never throws: every way it can go wrong is an error in the result. */
export function postOnce(url: string, body: string, headers: Record<string, string>, opts: SenderOptions): Promise<SendResult> {
  const started = performance.now();
  const done = (statusCode: number | null, error: string | null): SendResult => ({ statusCode, error, durationMs: performance.now() - started });
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve(done(null, 'Not a valid URL'));
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return Promise.resolve(done(null, 'Only http and https URLs are allowed'));
  const host = hostOf(target);
  if (!opts.allowPrivate && isIP(host)) {
    const why = refusal(host, host);
    if (why) return Promise.resolve(done(null, `Refused: ${why}`));
  }
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (statusCode: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(done(statusCode, error));
    };
    const request = target.protocol === 'https:' ? https.request : http.request;
    const req = request(target, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      // A fresh connection per attempt: a pooled socket could be one made before a DNS change.
      agent: false,
      ...(opts.allowPrivate ? {} : { lookup: guardedLookup }),
    });
    const timer = setTimeout(() => finish(null, `No answer within ${opts.timeoutMs} ms: cut off`), opts.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      finish(null, err.code === 'EADDRNOTALLOWED' ? `Refused: ${err.message}` : `${err.code ?? 'error'}: ${err.message}`);
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      const conclude = () => {
        const excerpt = printable(Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8'));
        if (status >= 200 && status < 300) return finish(status, null);
        if (status >= 300 && status < 400) return finish(status, `Redirects are not followed (HTTP ${status})`);
        return finish(status, `HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`);
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_RESPONSE_BYTES) conclude();
      });
      res.on('end', conclude);
      res.on('error', conclude);
    });
    req.end(body);
  });
}
