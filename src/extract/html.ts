/**
 * HTML to text, for .html files and Word altChunk bodies. A small scanner, not a browser: drops
 * script/style, turns block elements into line breaks and decodes common entities. Nothing
 * referenced by the page is ever fetched.
 */
const BLOCK = new Set([
  'p', 'div', 'br', 'li', 'tr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'section', 'article',
  'header', 'footer', 'blockquote', 'pre', 'ul', 'ol', 'dt', 'dd', 'hr', 'title', 'td', 'th',
]);
const SKIP = new Set(['script', 'style', 'noscript', 'template', 'head']);

const HTML_ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '©', reg: '®', trade: '™',
  mdash: '—', ndash: '–', hellip: '…', laquo: '«', raquo: '»', lsquo: '‘', rsquo: '’', ldquo: '“',
  rdquo: '”', bull: '•', middot: '·', euro: '€', pound: '£', yen: '¥', cent: '¢', sect: '§', para: '¶',
  deg: '°', plusmn: '±', times: '×', divide: '÷', shy: '', auml: 'ä', ouml: 'ö', uuml: 'ü', Auml: 'Ä',
  Ouml: 'Ö', Uuml: 'Ü', szlig: 'ß', eacute: 'é', egrave: 'è', ecirc: 'ê', aacute: 'á', agrave: 'à',
  acirc: 'â', ccedil: 'ç', iacute: 'í', oacute: 'ó', uacute: 'ú', ntilde: 'ñ', Eacute: 'É',
};

export function decodeHtmlEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(#[xX][0-9a-fA-F]{1,6}|#\d{1,7}|[A-Za-z]{2,8});?/g, (m, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : '\uFFFD';
    }
    return HTML_ENTITIES[body] ?? m;
  });
}

export interface HtmlText {
  text: string;
  title?: string;
  headings: number;
  tables: number;
  images: number;
  language?: string;
}

export function htmlToText(html: string): HtmlText {
  const out: string[] = [];
  let title: string | undefined;
  let firstHeading: string | undefined;
  let headings = 0;
  let tables = 0;
  let images = 0;
  let pos = 0;
  const langMatch = /<html\b[^>]*\blang\s*=\s*["']?([A-Za-z-]+)/i.exec(html);
  while (pos < html.length) {
    const lt = html.indexOf('<', pos);
    const chunk = html.slice(pos, lt < 0 ? html.length : lt);
    if (chunk) out.push(decodeHtmlEntities(chunk.replace(/\s+/g, ' ')));
    if (lt < 0) break;
    if (html.startsWith('<!--', lt)) {
      const e = html.indexOf('-->', lt + 4);
      pos = e < 0 ? html.length : e + 3;
      continue;
    }
    const gt = html.indexOf('>', lt);
    if (gt < 0) break;
    const m = /^<\/?([A-Za-z][A-Za-z0-9:-]*)/.exec(html.slice(lt, Math.min(gt + 1, lt + 64)));
    pos = gt + 1;
    if (!m || !m[1]) continue;
    const name = m[1].toLowerCase();
    const closing = html.charCodeAt(lt + 1) === 47;
    if (!closing && (SKIP.has(name) || name === 'title')) {
      const end = html.toLowerCase().indexOf(`</${name}`, pos);
      const inner = html.slice(pos, end < 0 ? html.length : end);
      if (name === 'title' && title === undefined) title = decodeHtmlEntities(inner.replace(/<[^>]*>/g, '')).replace(/\s+/g, ' ').trim() || undefined;
      if (name === 'head') {
        const t = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(inner);
        if (t && t[1] && title === undefined) title = decodeHtmlEntities(t[1]).replace(/\s+/g, ' ').trim() || undefined;
      }
      const close = end < 0 ? -1 : html.indexOf('>', end);
      pos = close < 0 ? html.length : close + 1;
      continue;
    }
    if (!closing && /^h[1-6]$/.test(name)) {
      headings++;
      if (firstHeading === undefined) {
        const end = html.toLowerCase().indexOf(`</${name}`, pos);
        if (end > 0) firstHeading = decodeHtmlEntities(html.slice(pos, end).replace(/<[^>]*>/g, '')).replace(/\s+/g, ' ').trim() || undefined;
      }
    }
    if (!closing && name === 'table') tables++;
    if (!closing && name === 'img') images++;
    if (name === 'td' || name === 'th') out.push(closing ? '\t' : '');
    else if (BLOCK.has(name)) out.push('\n');
  }
  const text = out
    .join('')
    .split('\n')
    .map((l) => l.trim())
    .filter((l, i, all) => l !== '' || (i > 0 && all[i - 1] !== ''))
    .join('\n')
    .trim();
  const result: HtmlText = { text, headings, tables, images };
  const t = title ?? firstHeading;
  if (t) result.title = t;
  if (langMatch?.[1]) result.language = langMatch[1];
  return result;
}
