/**
 * Names of documents inside containers come from the sender of an e-mail or the maker of an
 * archive: untrusted. A child's name becomes the last part of its address
 * (`<parent path>#<index>/<name>`) and is shown to users, so it is made safe here, once:
 * - no path: the name is split on `/` and `\`, empty, `.` and `..` segments and a drive letter
 *   (`C:`) are dropped, so `../../etc/passwd` is `etc∕passwd` and `/abs/x.txt` is `abs∕x.txt`;
 * - the folders that remain are kept as readable context but joined with U+2215 (DIVISION
 *   SLASH, `∕`), which no file system or URL parser takes for a separator: `sub/dir/a.docx` is
 *   `sub∕dir∕a.docx`, one segment;
 * - no NUL or other control characters, and no bidirectional overrides (which can make
 *   `invoice‮fdp.exe` display as `invoiceexe.pdf`);
 * - at most 255 characters, keeping the extension; an empty result becomes `<kind>-<index>`.
 */
import { extensionOf } from './detect.ts';
import type { ChildDocument } from './types.ts';

/** The separator that stands for a folder boundary inside a child's name. */
export const CHILD_FOLDER_SEPARATOR = '\u2215';

const MAX_NAME_CHARS = 255;

// Control characters (C0, DEL, C1) and the bidirectional embedding/override/isolate marks.
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function safeChildName(raw: string, index: number, kind: ChildDocument['kind']): string {
  const segments = raw
    .replace(UNSAFE_CHARS, '')
    .split(/[/\\]+/)
    .map((s) => s.trim())
    .filter((s, i) => s !== '' && s !== '.' && s !== '..' && !(i === 0 && /^[A-Za-z]:$/.test(s)))
    // A segment made only of dots would read as a path step once the separator is shown as '/'.
    .filter((s) => !/^\.+$/.test(s));
  let name = segments.join(CHILD_FOLDER_SEPARATOR);
  const chars = [...name];
  if (chars.length > MAX_NAME_CHARS) {
    const ext = extensionOf(name);
    const keep = ext && ext.length < 16 ? `.${ext}` : '';
    // By code points, so a cut never splits a surrogate pair.
    name = `${chars.slice(0, MAX_NAME_CHARS - keep.length - 1).join('')}…${keep}`;
  }
  return name === '' ? `${kind}-${index}` : name;
}
