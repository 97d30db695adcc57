/**
 * A bounded reader for OLE compound files (the container of .doc/.xls/.ppt and of password-
 * protected OOXML). Every sector chain walk is capped by the file's sector count, so a cyclic
 * or forged FAT ends as `corrupt` instead of a hang.
 */
import { ExtractionError } from './types.ts';

export const OLE_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1] as const;

const END_OF_CHAIN = 0xfffffffe;
const FREE = 0xffffffff;

export function looksLikeOle(bytes: Uint8Array): boolean {
  return bytes.length >= 512 && OLE_MAGIC.every((b, i) => bytes[i] === b);
}

export interface OleEntry {
  name: string;
  /** 1 storage, 2 stream, 5 root. */
  type: number;
  start: number;
  size: number;
}

function corrupt(message: string): ExtractionError {
  return new ExtractionError('corrupt', `Damaged OLE compound file: ${message}`);
}

export class OleFile {
  readonly entries: OleEntry[] = [];
  private readonly v: DataView;
  private readonly sectorSize: number;
  private readonly miniSectorSize: number;
  private readonly miniCutoff: number;
  private readonly fat: Uint32Array;
  private readonly maxSectors: number;
  private miniFat: Uint32Array | undefined;
  private miniStream: Uint8Array | undefined;

  constructor(private readonly bytes: Uint8Array) {
    if (!looksLikeOle(bytes)) throw corrupt('bad signature');
    this.v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const shift = this.v.getUint16(0x1e, true);
    const miniShift = this.v.getUint16(0x20, true);
    if (shift !== 9 && shift !== 12) throw corrupt(`sector shift ${shift}`);
    if (miniShift > shift) throw corrupt(`mini sector shift ${miniShift}`);
    this.sectorSize = 1 << shift;
    this.miniSectorSize = 1 << miniShift;
    this.miniCutoff = this.v.getUint32(0x38, true);
    this.maxSectors = Math.ceil(bytes.length / this.sectorSize) + 1;
    this.fat = this.readFat();
    this.readDirectory();
  }

  find(name: string): OleEntry | undefined {
    const lower = name.toLowerCase();
    return this.entries.find((e) => e.type === 2 && e.name.toLowerCase() === lower);
  }

  has(name: string): boolean {
    return this.entries.some((e) => e.name.toLowerCase() === name.toLowerCase());
  }

  readStream(name: string): Uint8Array | undefined {
    const entry = this.find(name);
    if (!entry) return undefined;
    if (entry.size < this.miniCutoff) return this.readMini(entry.start, entry.size);
    return this.readChain(entry.start, entry.size);
  }

  private sectorOffset(sector: number): number {
    return (sector + 1) * this.sectorSize;
  }

  private readFat(): Uint32Array {
    const v = this.v;
    const fatSectorCount = v.getUint32(0x2c, true);
    if (fatSectorCount > this.maxSectors) throw corrupt('FAT larger than the file');
    const fatSectors: number[] = [];
    for (let i = 0; i < 109 && fatSectors.length < fatSectorCount; i++) fatSectors.push(v.getUint32(0x4c + i * 4, true));
    let difat = v.getUint32(0x44, true);
    let guard = 0;
    while (fatSectors.length < fatSectorCount && difat !== END_OF_CHAIN && difat !== FREE) {
      if (++guard > this.maxSectors) throw corrupt('DIFAT chain loops');
      const off = this.sectorOffset(difat);
      if (off + this.sectorSize > this.bytes.length) throw corrupt('DIFAT sector past end of file');
      const per = this.sectorSize / 4 - 1;
      for (let i = 0; i < per && fatSectors.length < fatSectorCount; i++) fatSectors.push(v.getUint32(off + i * 4, true));
      difat = v.getUint32(off + per * 4, true);
    }
    const perSector = this.sectorSize / 4;
    const fat = new Uint32Array(fatSectors.length * perSector);
    fatSectors.forEach((sector, i) => {
      const off = this.sectorOffset(sector);
      // A truncated file loses the FAT's tail; chains that need it fail when walked.
      if (off + this.sectorSize > this.bytes.length) return;
      for (let j = 0; j < perSector; j++) fat[i * perSector + j] = v.getUint32(off + j * 4, true);
    });
    return fat;
  }

  private chain(start: number): number[] {
    const out: number[] = [];
    let s = start;
    while (s !== END_OF_CHAIN && s !== FREE) {
      if (out.length >= this.maxSectors || s >= this.fat.length) throw corrupt('sector chain loops or leaves the FAT');
      out.push(s);
      s = this.fat[s] ?? END_OF_CHAIN;
    }
    return out;
  }

  private readChain(start: number, size?: number): Uint8Array {
    const sectors = this.chain(start);
    const total = size ?? sectors.length * this.sectorSize;
    if (total > sectors.length * this.sectorSize) throw corrupt('stream shorter than its declared size');
    const out = new Uint8Array(total);
    let pos = 0;
    for (const s of sectors) {
      if (pos >= total) break;
      const off = this.sectorOffset(s);
      const n = Math.min(this.sectorSize, total - pos);
      if (off + n > this.bytes.length) throw corrupt('sector past end of file (truncated?)');
      out.set(this.bytes.subarray(off, off + n), pos);
      pos += n;
    }
    return out;
  }

  private readMini(start: number, size: number): Uint8Array {
    if (!this.miniFat) {
      const first = this.v.getUint32(0x3c, true);
      const raw = first === END_OF_CHAIN || first === FREE ? new Uint8Array(0) : this.readChain(first);
      this.miniFat = new Uint32Array(raw.buffer, raw.byteOffset, Math.floor(raw.length / 4));
      const root = this.entries.find((e) => e.type === 5);
      this.miniStream = root && root.start !== END_OF_CHAIN ? this.readChain(root.start, root.size) : new Uint8Array(0);
    }
    const miniFat = this.miniFat;
    const stream = this.miniStream ?? new Uint8Array(0);
    const out = new Uint8Array(size);
    let pos = 0;
    let s = start;
    let guard = 0;
    while (pos < size) {
      if (s === END_OF_CHAIN || s === FREE || s >= miniFat.length || ++guard > miniFat.length + 1) throw corrupt('mini stream chain broken');
      const off = s * this.miniSectorSize;
      const n = Math.min(this.miniSectorSize, size - pos);
      if (off + n > stream.length) throw corrupt('mini sector past end of mini stream');
      out.set(stream.subarray(off, off + n), pos);
      pos += n;
      s = miniFat[s] ?? END_OF_CHAIN;
    }
    return out;
  }

  private readDirectory(): void {
    const dir = this.readChain(this.v.getUint32(0x30, true));
    const dv = new DataView(dir.buffer, dir.byteOffset, dir.byteLength);
    for (let off = 0; off + 128 <= dir.length; off += 128) {
      const type = dir[off + 66] ?? 0;
      if (type === 0) continue;
      const nameLen = Math.min(dv.getUint16(off + 64, true), 64);
      const name = new TextDecoder('utf-16le').decode(dir.subarray(off, off + Math.max(0, nameLen - 2)));
      this.entries.push({ name, type, start: dv.getUint32(off + 116, true), size: dv.getUint32(off + 120, true) });
    }
  }
}
