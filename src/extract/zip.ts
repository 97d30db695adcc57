/**
 * A defensive zip reader. We parse the central directory ourselves (instead of a library's
 * "unzip everything") so that limits apply before any byte is inflated: entry count, per-entry
 * compression ratio and a running total of inflated bytes, checked while streaming because the
 * sizes declared in the archive can lie.
 */
import { Buffer, isAscii } from 'node:buffer';
import { inflateRawSync } from 'node:zlib';
import { Inflate } from 'fflate';
import { ExtractionError, type ExtractLimits } from './types.ts';

export interface ZipEntry {
  /** Name as stored (forward slashes, no leading slash). */
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
  /** Host system that wrote the entry (high byte of "version made by": 0 MS-DOS, 3 Unix, ...). */
  madeBy: number;
  /** External file attributes: on Unix hosts the file mode in the high 16 bits (links, directories). */
  externalAttributes: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

/**
 * Small parts compress very well (a 1 MB run of empty spreadsheet cells is legitimately 300:1),
 * so, like Apache POI's ZipSecureFile, the ratio only counts once an entry has inflated this much.
 */
const RATIO_GRACE_BYTES = 1024 * 1024;
/**
 * Entries up to this compressed size whose declared size passes the limits are inflated in one
 * call (Node's zlib, about 3x fflate's speed on Office parts) that may produce at most the
 * declared size + 1 bytes (the fast path). If it would produce more, the declared size lied and
 * the entry is re-read on the streaming path, which stops at the caps. The wasted work is bounded
 * by the declared size, which the limits have already accepted.
 */
const FAST_PATH_MAX_COMPRESSED = 1024 * 1024;
/** Largest single output chunk zlib allocates up front on the fast path. */
const MAX_CHUNK_BYTES = 8 * 1024 * 1024;
/** Compressed bytes pushed per step: bounds what one push can inflate (~1032x) before we check. */
const INFLATE_STEP_BYTES = 16 * 1024;

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5 || bytes[2] === 7);
}

function corrupt(message: string): ExtractionError {
  return new ExtractionError('corrupt', `Damaged zip archive: ${message}`);
}

export class ZipArchive {
  readonly entries: ZipEntry[] = [];
  /** Names that occur more than once (later copies are ignored). */
  readonly duplicates: string[] = [];
  /**
   * What the readers of this archive's parts changed to read them safely (a DTD ignored), for the
   * extractor to report: the readers are called from many places that keep no warnings of their own.
   */
  readonly partWarnings: string[] = [];
  private readonly byName = new Map<string, ZipEntry>();
  private inflatedTotal = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly limits: ExtractLimits,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.readCentralDirectory();
  }

  /** Bytes inflated so far from this archive (all reads). */
  get inflatedBytes(): number {
    return this.inflatedTotal;
  }

  /** OPC part names are case-insensitive; a leading slash (as in relationship targets) is ignored. */
  find(name: string): ZipEntry | undefined {
    return this.byName.get(normaliseName(name));
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  /** Inflates one entry under the archive's limits; undefined when the entry does not exist. */
  read(name: string): Uint8Array | undefined {
    const entry = this.find(name);
    return entry ? this.readEntry(entry) : undefined;
  }

  /** Reads an entry as text (UTF-8 unless a UTF-16 byte-order mark says otherwise). */
  readText(name: string): string | undefined {
    const data = this.read(name);
    return data ? decodeText(data) : undefined;
  }

  readEntry(entry: ZipEntry): Uint8Array {
    if (entry.flags & 1) throw new ExtractionError('encrypted', `Zip entry ${entry.name} is encrypted`);
    const v = this.view;
    const at = entry.localHeaderOffset;
    if (at + 30 > this.bytes.length || v.getUint32(at, true) !== SIG_LOCAL) {
      throw corrupt(`local header of ${entry.name} is missing`);
    }
    const start = at + 30 + v.getUint16(at + 26, true) + v.getUint16(at + 28, true);
    const end = start + entry.compressedSize;
    if (end > this.bytes.length) throw corrupt(`entry ${entry.name} runs past the end of the file (truncated?)`);
    const data = this.bytes.subarray(start, end);
    if (entry.method === 0) {
      this.account(entry, data.length, data.length);
      return data;
    }
    if (entry.method !== 8) {
      throw new ExtractionError('unsupported', `Zip entry ${entry.name} uses compression method ${entry.method}`);
    }
    return this.inflate(entry, data);
  }

  private inflate(entry: ZipEntry, data: Uint8Array): Uint8Array {
    const declared = entry.uncompressedSize;
    if (
      data.length <= FAST_PATH_MAX_COMPRESSED &&
      this.inflatedTotal + declared <= this.limits.maxUncompressedBytes &&
      (declared <= RATIO_GRACE_BYTES || declared / Math.max(data.length, 1) <= this.limits.maxCompressionRatio)
    ) {
      let out: Uint8Array | undefined;
      try {
        // maxOutputLength makes zlib stop (and throw) instead of producing more than allowed;
        // one output chunk of the declared size avoids growing and concatenating buffers.
        out = inflateRawSync(data, { maxOutputLength: declared + 1, chunkSize: Math.min(Math.max(declared + 1, 64), MAX_CHUNK_BYTES) });
      } catch (err) {
        // Too much output or damaged data: the streaming path decides and reports it with the entry's name.
        out = undefined;
        if (!(err instanceof Error)) throw err;
      }
      if (out && out.length <= declared) {
        this.account(entry, out.length, data.length);
        return out;
      }
    }
    return this.inflateStreaming(entry, data);
  }

  private inflateStreaming(entry: ZipEntry, data: Uint8Array): Uint8Array {
    const chunks: Uint8Array[] = [];
    let produced = 0;
    let consumed = 0;
    const inflater = new Inflate((chunk) => {
      produced += chunk.length;
      // Throwing from the callback aborts the inflate as soon as a cap is passed.
      this.account(entry, produced, consumed, chunk.length);
      chunks.push(chunk);
    });
    try {
      if (data.length === 0) throw corrupt(`entry ${entry.name} has no data`);
      for (let off = 0; off < data.length; off += INFLATE_STEP_BYTES) {
        const next = Math.min(off + INFLATE_STEP_BYTES, data.length);
        consumed = next;
        inflater.push(data.subarray(off, next), next === data.length);
      }
    } catch (err) {
      if (err instanceof ExtractionError) throw err;
      throw corrupt(`entry ${entry.name} does not inflate (${err instanceof Error ? err.message : String(err)})`);
    }
    if (chunks.length === 1 && chunks[0]) return chunks[0];
    const out = new Uint8Array(produced);
    let pos = 0;
    for (const c of chunks) {
      out.set(c, pos);
      pos += c.length;
    }
    return out;
  }

  /** Charges inflated bytes to the archive, throwing zip_bomb when a limit is passed. */
  private account(entry: ZipEntry, producedForEntry: number, consumedForEntry: number, added = producedForEntry): void {
    this.inflatedTotal += added;
    if (this.inflatedTotal > this.limits.maxUncompressedBytes) {
      throw new ExtractionError(
        'zip_bomb',
        `Archive inflates to more than ${this.limits.maxUncompressedBytes} bytes (at entry ${entry.name})`,
      );
    }
    if (producedForEntry > RATIO_GRACE_BYTES && producedForEntry / Math.max(consumedForEntry, 1) > this.limits.maxCompressionRatio) {
      throw new ExtractionError(
        'zip_bomb',
        `Entry ${entry.name} expands more than ${this.limits.maxCompressionRatio}:1`,
      );
    }
  }

  private readCentralDirectory(): void {
    const { bytes, view: v } = this;
    const eocd = findEndOfCentralDirectory(bytes, v);
    if (eocd < 0) throw corrupt('no end-of-central-directory record (truncated or not a zip)');
    let count = v.getUint16(eocd + 10, true);
    let cdSize = v.getUint32(eocd + 12, true);
    let cdOffset = v.getUint32(eocd + 16, true);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc >= 0 && v.getUint32(loc, true) === SIG_ZIP64_LOCATOR) {
        const z = safeNumber(v.getBigUint64(loc + 8, true));
        if (z + 56 > bytes.length || v.getUint32(z, true) !== SIG_ZIP64_EOCD) throw corrupt('bad zip64 record');
        count = safeNumber(v.getBigUint64(z + 32, true));
        cdSize = safeNumber(v.getBigUint64(z + 40, true));
        cdOffset = safeNumber(v.getBigUint64(z + 48, true));
      }
    }
    if (count > this.limits.maxEntries) {
      throw new ExtractionError('zip_bomb', `Archive has ${count} entries; the limit is ${this.limits.maxEntries}`);
    }
    if (cdOffset + cdSize > bytes.length) throw corrupt('central directory lies past the end of the file (truncated?)');
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > bytes.length || v.getUint32(p, true) !== SIG_CENTRAL) throw corrupt(`central directory entry ${i} is damaged`);
      const madeBy = v.getUint8(p + 5);
      const externalAttributes = v.getUint32(p + 38, true);
      const flags = v.getUint16(p + 8, true);
      const method = v.getUint16(p + 10, true);
      let compressedSize = v.getUint32(p + 20, true);
      let uncompressedSize = v.getUint32(p + 24, true);
      const nameLen = v.getUint16(p + 28, true);
      const extraLen = v.getUint16(p + 30, true);
      const commentLen = v.getUint16(p + 32, true);
      let localHeaderOffset = v.getUint32(p + 42, true);
      const nameEnd = p + 46 + nameLen;
      if (nameEnd + extraLen > bytes.length) throw corrupt(`central directory entry ${i} is truncated`);
      const rawName = bytes.subarray(p + 46, nameEnd);
      const name = (flags & 0x800 ? utf8 : isAscii(rawName) ? utf8 : latin1).decode(rawName);
      if (compressedSize === 0xffffffff || uncompressedSize === 0xffffffff || localHeaderOffset === 0xffffffff) {
        // Zip64 extra field: only the fields that overflowed are present, in this order.
        let e = nameEnd;
        const extraEnd = nameEnd + extraLen;
        while (e + 4 <= extraEnd) {
          const id = v.getUint16(e, true);
          const size = v.getUint16(e + 2, true);
          if (id === 1) {
            let q = e + 4;
            if (uncompressedSize === 0xffffffff && q + 8 <= extraEnd) { uncompressedSize = safeNumber(v.getBigUint64(q, true)); q += 8; }
            if (compressedSize === 0xffffffff && q + 8 <= extraEnd) { compressedSize = safeNumber(v.getBigUint64(q, true)); q += 8; }
            if (localHeaderOffset === 0xffffffff && q + 8 <= extraEnd) { localHeaderOffset = safeNumber(v.getBigUint64(q, true)); }
            break;
          }
          e += 4 + size;
        }
      }
      const entry: ZipEntry = { name, method, flags, compressedSize, uncompressedSize, localHeaderOffset, madeBy, externalAttributes };
      this.entries.push(entry);
      const key = normaliseName(name);
      if (this.byName.has(key)) this.duplicates.push(name);
      else this.byName.set(key, entry);
      p = nameEnd + extraLen + commentLen;
    }
  }
}

export function openZip(bytes: Uint8Array, limits: ExtractLimits): ZipArchive {
  return new ZipArchive(bytes, limits);
}

function findEndOfCentralDirectory(bytes: Uint8Array, v: DataView): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes.
  const min = Math.max(0, bytes.length - 22 - 0xffff);
  for (let i = bytes.length - 22; i >= min; i--) {
    if (bytes[i] === 0x50 && bytes[i + 1] === 0x4b && v.getUint32(i, true) === SIG_EOCD) return i;
  }
  return -1;
}

function safeNumber(n: bigint): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt('size field out of range');
  return Number(n);
}

function normaliseName(name: string): string {
  return (name.startsWith('/') ? name.slice(1) : name).toLowerCase();
}

/** True when a UTF-16 byte-order mark or a UTF-16 XML declaration says the bytes are not UTF-8. */
export function isUtf16(data: Uint8Array): boolean {
  if (data.length < 2) return false;
  const a = data[0];
  const b = data[1];
  return (a === 0xff && b === 0xfe) || (a === 0xfe && b === 0xff) || (a === 0x3c && b === 0) || (a === 0 && b === 0x3c);
}

/** UTF-8 unless a UTF-16 byte-order mark (or a UTF-16 XML declaration) says otherwise. */
export function decodeText(data: Uint8Array): string {
  if (data.length >= 2) {
    if (data[0] === 0xff && data[1] === 0xfe) return new TextDecoder('utf-16le').decode(data);
    if (data[0] === 0xfe && data[1] === 0xff) return new TextDecoder('utf-16be').decode(data);
    if (data[0] === 0x3c && data[1] === 0) return new TextDecoder('utf-16le').decode(data);
    if (data[0] === 0 && data[1] === 0x3c) return new TextDecoder('utf-16be').decode(data);
  }
  // Pure ASCII (most markup-only parts) is the same in every ASCII-compatible decoding, and the
  // latin1 copy is a plain byte copy, ~10x cheaper than UTF-8 decoding.
  const buf = asBuffer(data);
  if (isAscii(buf)) return buf.toString('latin1');
  return utf8.decode(data);
}

/** A Buffer over the same memory (no copy). */
export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
