/**
 * MHT (MIME HTML) as Word stores it in altChunk parts: the first text/html body, with
 * quoted-printable or base64 transfer encoding undone.
 */
export function decodeMime(mht: string): string {
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(mht)?.[1];
  const sections = boundary ? mht.split(`--${boundary}`) : [mht];
  for (const section of sections) {
    const split = section.search(/\r?\n\r?\n/);
    if (split < 0) continue;
    const headers = section.slice(0, split);
    if (!/content-type:\s*text\/html/i.test(headers) && boundary) continue;
    const body = section.slice(split).trim();
    const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(headers)?.[1]?.toLowerCase();
    if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (encoding === 'quoted-printable') {
      const bytes = Buffer.from(
        body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
        'latin1',
      );
      return bytes.toString(/charset="?utf-8/i.test(headers) ? 'utf8' : 'latin1');
    }
    return body;
  }
  return mht;
}
