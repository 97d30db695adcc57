/**
 * RFC 822 / MIME messages (.eml) through postal-mime (maintained, no dependencies, bounded: part
 * count, nesting and header size are capped). Every attachment, an attached message included
 * (message/rfc822 parts are kept as attachments rather than folded into the body), becomes a
 * child document. An encrypted message (S/MIME enveloped data, PGP/MIME) fails with `encrypted`.
 */
import PostalMime, { type Address, type Attachment, type Email } from 'postal-mime';
import type { Extractor, ExtractInput, ExtractorOutput } from './extractor.ts';
import { htmlToText } from './html.ts';
import { extensionForMimeType, formatMailbox, mailOutput, type MailAttachment } from './mail.ts';
import { ExtractionError } from './types.ts';
import { asBuffer } from './zip.ts';

/** MIME parts that carry a signature over the message, not a document of their own. */
const SIGNATURE_TYPES = new Set(['application/pkcs7-signature', 'application/x-pkcs7-signature', 'application/pgp-signature']);
/** MIME nesting deeper than this is not a real mail client's (postal-mime's own default is 256). */
const MAX_MIME_NESTING = 64;

export const emlExtractor: Extractor = {
  formats: ['eml'],
  async extract({ bytes, limits }: ExtractInput): Promise<ExtractorOutput> {
    let email: Email;
    try {
      email = await PostalMime.parse(bytes, {
        forceRfc822Attachments: true,
        attachmentEncoding: 'arraybuffer',
        maxPartCount: Math.min(limits.maxEntries, 10_000),
        maxNestingDepth: MAX_MIME_NESTING,
      });
    } catch (err) {
      throw parseFailure(err);
    }
    refuseEncrypted(email);
    const warnings: string[] = [];
    const attachments: MailAttachment[] = [];
    let signed = false;
    email.attachments.forEach((a, i) => {
      if (SIGNATURE_TYPES.has(a.mimeType)) {
        signed = true;
        return;
      }
      const data = contentBytes(a);
      attachments.push({
        name: a.filename ?? `attachment-${i + 1}${extensionForMimeType(a.mimeType)}`,
        mimeType: a.mimeType,
        size: data.length,
        bytes: () => data,
      });
    });
    const htmlOnly = email.html !== undefined && !hasPlainTextPart(bytes);
    const text = htmlOnly && email.html !== undefined ? htmlToText(email.html).text : (email.text ?? '');
    const out = mailOutput({
      ...(email.subject !== undefined && { subject: email.subject }),
      ...optional('from', mailbox(email.from)),
      to: mailboxes(email.to),
      cc: mailboxes(email.cc),
      bcc: mailboxes(email.bcc),
      ...optional('sent', email.date),
      ...optional('messageId', email.messageId),
      ...optional('inReplyTo', email.inReplyTo),
      text,
      htmlBody: htmlOnly,
      attachments,
      warnings,
    });
    out.structure = { ...out.structure, signed };
    return out;
  },
};

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Record<K, string>) : {};
}

function mailbox(a: Address | undefined): string | undefined {
  if (!a) return undefined;
  if (a.group) return a.group.map((m) => formatMailbox(m.name, m.address)).filter(Boolean).join(', ') || a.name || undefined;
  return formatMailbox(a.name, a.address);
}

function mailboxes(list: Address[] | undefined): string[] {
  return (list ?? []).map(mailbox).filter((s): s is string => s !== undefined);
}

function contentBytes(a: Attachment): Uint8Array {
  if (typeof a.content === 'string') return new TextEncoder().encode(a.content);
  return a.content instanceof Uint8Array ? a.content : new Uint8Array(a.content);
}

/**
 * postal-mime turns an HTML-only body into text itself; we use html.ts instead (the same
 * conversion as .html files), so we need to know whether a text/plain part exists. A message
 * without any Content-Type is text/plain and then has no HTML body at all.
 */
function hasPlainTextPart(bytes: Uint8Array): boolean {
  return /^content-type:[ \t]*text\/plain/im.test(asBuffer(bytes).toString('latin1'));
}

function refuseEncrypted(email: Email): void {
  const contentType = email.headers.find((h) => h.key === 'content-type')?.value ?? '';
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'multipart/encrypted') throw new ExtractionError('encrypted', 'Encrypted message (PGP/MIME)');
  if (type === 'application/pkcs7-mime' || type === 'application/x-pkcs7-mime') {
    const smimeType = /smime-type\s*=\s*"?([\w-]+)/i.exec(contentType)?.[1]?.toLowerCase();
    if (smimeType === 'signed-data' || smimeType === 'certs-only' || smimeType === 'compressed-data') {
      // Opaque-signed: the content is inside the PKCS#7 structure, which we do not decode.
      throw new ExtractionError('unsupported', `S/MIME ${smimeType} message: its content is wrapped in the signature`);
    }
    throw new ExtractionError('encrypted', 'Encrypted message (S/MIME enveloped data)');
  }
  if ((email.text ?? '').trimStart().startsWith('-----BEGIN PGP MESSAGE-----')) {
    throw new ExtractionError('encrypted', 'Encrypted message (inline PGP)');
  }
}

function parseFailure(err: unknown): ExtractionError {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'EMAXPARTCOUNT') return new ExtractionError('zip_bomb', `Message has too many MIME parts: ${message}`);
  if (code === 'EMAXNESTINGDEPTH') return new ExtractionError('too_deep', `MIME parts nested too deeply: ${message}`);
  if (code === 'EMAXHEADERSIZE' || code === 'EMAXFORWARDEDADDRESSES') return new ExtractionError('too_large', message);
  return new ExtractionError('corrupt', `Unreadable message: ${message}`);
}
