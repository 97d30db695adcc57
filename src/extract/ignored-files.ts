/**
 * Files that sit in document folders but are not documents: OS metadata, Office lock files and
 * editor temp files. The scanner skips them (counted as skipped, never as failures).
 */
const IGNORED_NAMES = new Set(['thumbs.db', 'ehthumbs.db', 'desktop.ini', 'icon\r', '.ds_store']);

export function isIgnoredFileName(name: string): boolean {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  if (base === '') return true;
  // Dotfiles: .DS_Store, ._resource forks, LibreOffice's .~lock.name#.
  if (base.startsWith('.')) return true;
  // Word/Excel owner files (~$name.docx) and Word's temp files (~WRL1234.tmp, ~WRD0001.tmp).
  if (base.startsWith('~$') || base.startsWith('~WR')) return true;
  const lower = base.toLowerCase();
  if (IGNORED_NAMES.has(lower)) return true;
  return lower.endsWith('.tmp') || lower.endsWith('~');
}
