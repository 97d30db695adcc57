/**
 * A plain .zip as a container: every file entry is a child document, read through the same
 * defensive reader as Office packages (zip.ts: entry count, per-entry ratio and total inflated
 * size are capped while inflating), one entry at a time. Entry names are untrusted: the engine
 * makes them safe (child-name.ts); symbolic links are never followed (their content is a path,
 * not a document) and directories are not documents. OS metadata (__MACOSX/, .DS_Store,
 * Thumbs.db) is skipped as the scanner skips it on disk. An archive whose every file is
 * encrypted fails with `encrypted`; a single encrypted entry fails alone.
 *
 * .7z and .tar.gz are not opened (recognised, unread files): npm has no maintained pure-JS 7z
 * reader (7z-wasm is 7-Zip compiled to WebAssembly, node-7z drives a binary). A maintained
 * pure-JS tar reader exists (tar-stream; gunzip is in fflate), but not yet its bomb limits.
 */
import type { ChildSource, Extractor, ExtractInput, ExtractorOutput } from './extractor.ts';
import { isIgnoredFileName } from './ignored-files.ts';
import { ExtractionError } from './types.ts';
import { openZip, type ZipEntry } from './zip.ts';

/** "Version made by" host values whose external attributes carry a Unix file mode. */
const UNIX_HOSTS = new Set([3, 19]);
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const DOS_DIRECTORY = 0x10;

export function isSymlinkEntry(entry: ZipEntry): boolean {
  return UNIX_HOSTS.has(entry.madeBy) && ((entry.externalAttributes >>> 16) & S_IFMT) === S_IFLNK;
}

function isDirectoryEntry(entry: ZipEntry): boolean {
  if (entry.name.endsWith('/') || entry.name.endsWith('\\')) return true;
  if (UNIX_HOSTS.has(entry.madeBy)) return ((entry.externalAttributes >>> 16) & S_IFMT) === S_IFDIR;
  return (entry.externalAttributes & DOS_DIRECTORY) !== 0 && entry.uncompressedSize === 0;
}

function isMetadataEntry(name: string): boolean {
  return name.startsWith('__MACOSX/') || isIgnoredFileName(name);
}

export const zipExtractor: Extractor = {
  formats: ['zip'],
  extract({ bytes, limits, detection }: ExtractInput): ExtractorOutput {
    const zip = detection.zip ?? openZip(bytes, limits);
    const childSources: ChildSource[] = [];
    const warnings: string[] = [];
    let directories = 0;
    let links = 0;
    let skipped = 0;
    let encrypted = 0;
    for (const entry of zip.entries) {
      if (isSymlinkEntry(entry)) {
        links++;
        warnings.push(`entry ${JSON.stringify(entry.name)} is a symbolic link: not followed`);
      } else if (isDirectoryEntry(entry)) {
        directories++;
      } else if (isMetadataEntry(entry.name)) {
        skipped++;
      } else {
        if (entry.flags & 1) encrypted++;
        childSources.push({ name: entry.name, kind: 'archive-entry', read: () => zip.readEntry(entry) });
      }
    }
    if (childSources.length > 0 && encrypted === childSources.length) {
      throw new ExtractionError('encrypted', 'Password-protected zip archive: every entry is encrypted');
    }
    const out: ExtractorOutput = {
      properties: {},
      raw: {},
      text: '',
      structure: { entries: childSources.length, directories, links, skipped, encryptedEntries: encrypted },
      childSources,
    };
    if (zip.duplicates.length) warnings.push(`names stored more than once: ${zip.duplicates.slice(0, 5).join(', ')}`);
    if (warnings.length) out.warnings = warnings;
    return out;
  },
};
