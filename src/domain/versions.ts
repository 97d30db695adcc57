/**
 * The version words people put in file names ("Offerte v3 definitief (kopie).docx"), in Dutch and
 * English. Pure: a duplicate group reports them per member, so a reader sees which file claims to
 * be the final one and which are copies, beside what the dates say.
 */

/** `v<N>` for a numbered version; `final`, `draft` and `copy` for the words that say so. */
export type VersionHint = 'final' | 'draft' | 'copy' | `v${number}`;

/** Word boundaries that also treat `_`, `-` and `.` as separators, as file names use them. */
const B = '(?:^|[\\s_.\\-(\\[])';
const E = '(?=$|[\\s_.\\-)\\]])';

const NUMBERED = new RegExp(`${B}(?:v|ver|versie|version|rev|revisie|revision)[\\s_.\\-]?(\\d{1,3})${E}`, 'iu');
const FINAL = new RegExp(`${B}(?:final|definitief|definitieve|def|defintief|eindversie)${E}`, 'iu');
const DRAFT = new RegExp(`${B}(?:concept|draft|ontwerp)${E}`, 'iu');
/** "kopie", "copy", "Copy of x", "x - Kopie", and the "(1)", "(2)" that browsers and Windows append. */
const COPY = new RegExp(`${B}(?:kopie|copy|kopie\\s+van|copy\\s+of)${E}|\\(\\d{1,3}\\)\\s*$`, 'iu');

/**
 * The hints in a file name (its extension ignored), in a fixed order: the numbered version,
 * then final or draft, then copy. Empty when the name says nothing about its version.
 */
export function versionHints(fileName: string): VersionHint[] {
  const dot = fileName.lastIndexOf('.');
  const stem = dot > 0 ? fileName.slice(0, dot) : fileName;
  const hints: VersionHint[] = [];
  const numbered = NUMBERED.exec(stem);
  if (numbered) hints.push(`v${Number(numbered[1])}`);
  if (FINAL.test(stem)) hints.push('final');
  else if (DRAFT.test(stem)) hints.push('draft');
  if (COPY.test(stem)) hints.push('copy');
  return hints;
}
