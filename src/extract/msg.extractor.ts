/**
 * Outlook .msg (an OLE compound file of MAPI properties) through @kenjiuno/msgreader. Attached
 * files become child documents, and so does an attached message (msgreader rebuilds it as a
 * .msg of its own, which the engine opens like any other). Messages stored in a legacy code
 * page (8-bit strings) are re-read in the code page they declare, so a Big5 subject reads as
 * Chinese rather than as Latin-1 debris. An S/MIME encrypted message fails with `encrypted`.
 */
import msgreader, { type FieldsData } from '@kenjiuno/msgreader';
import type { Extractor, ExtractInput, ExtractorOutput } from './extractor.ts';
import { htmlToText } from './html.ts';
import { extensionForMimeType, formatMailbox, mailOutput, type MailAttachment } from './mail.ts';
import { ExtractionError } from './types.ts';

// The package is CommonJS with `exports.default`: imported from ESM, the class is one level down.
const MsgReader = msgreader.default;
type MsgReaderClass = typeof MsgReader;

/** Code pages whose 8-bit strings msgreader's default decoding already reads right. */
const DEFAULT_CODEPAGES = new Set([1252, 28591, 20127, 1200, 1201]);

export const msgExtractor: Extractor = {
  formats: ['msg'],
  extract({ bytes }: ExtractInput): ExtractorOutput {
    let { reader, data } = open(bytes);
    const codepage = data.messageCodepage ?? data.internetCodepage;
    if (codepage !== undefined && !DEFAULT_CODEPAGES.has(codepage)) {
      const ansiEncoding = codepage === 65001 ? 'utf8' : `cp${codepage}`;
      ({ reader, data } = open(bytes, ansiEncoding));
    }
    const messageClass = data.messageClass ?? '';
    if (/^IPM\.Note\.(SMIME|Secure)(?!\.MultipartSigned)/i.test(messageClass)) {
      throw new ExtractionError('encrypted', `Encrypted Outlook message (${messageClass})`);
    }
    const warnings: string[] = [];
    const attachments: MailAttachment[] = (data.attachments ?? []).map((a, i) => {
      let content: Uint8Array | undefined;
      const bytesOf = (): Uint8Array => {
        content ??= readAttachment(reader, a);
        return content;
      };
      const mimeType = a.attachMimeTag ?? (a.innerMsgContent ? 'application/vnd.ms-outlook' : 'application/octet-stream');
      const base = a.fileName || a.fileNameShort || a.name || `attachment-${i + 1}`;
      // An attached message is named after its subject; the extension tells users (and detection's tie-break) what it is.
      const name = a.innerMsgContent && !/\.msg$/i.test(base) ? `${base}.msg` : base.includes('.') ? base : `${base}${extensionForMimeType(mimeType)}`;
      return { name, mimeType, size: a.contentLength ?? bytesOf().length, bytes: bytesOf };
    });
    let text = data.body ?? '';
    let htmlBody = false;
    if (!text.trim()) {
      const html = data.bodyHtml ?? (data.html ? new TextDecoder(htmlCharset(codepage)).decode(data.html) : undefined);
      if (html) {
        text = htmlToText(html).text;
        htmlBody = true;
      } else if (data.compressedRtf) {
        warnings.push('the body is stored only as compressed RTF, which is not read');
      }
    }
    const recipients = data.recipients ?? [];
    const addressesOf = (type: 'to' | 'cc' | 'bcc'): string[] =>
      recipients
        .filter((r) => (r.recipType ?? 'to') === type)
        .map((r) => formatMailbox(r.name, r.smtpAddress || smtpOnly(r.email)))
        .filter((s): s is string => s !== undefined);
    const from = formatMailbox(
      data.senderName,
      data.senderSmtpAddress || data.sentRepresentingSmtpAddress || data.creatorSMTPAddress || smtpOnly(data.senderEmail),
    );
    const sent = data.clientSubmitTime ?? data.messageDeliveryTime ?? data.creationTime;
    return mailOutput({
      ...(data.subject !== undefined && { subject: data.subject }),
      ...(from !== undefined && { from }),
      to: addressesOf('to'),
      cc: addressesOf('cc'),
      bcc: addressesOf('bcc'),
      ...(sent !== undefined && { sent }),
      ...(data.messageId !== undefined && { messageId: data.messageId }),
      text,
      htmlBody,
      attachments,
      warnings,
    });
  },
};

function open(bytes: Uint8Array, ansiEncoding?: string): { reader: InstanceType<MsgReaderClass>; data: FieldsData } {
  try {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const reader = new MsgReader(view);
    if (ansiEncoding) reader.parserConfig = { ansiEncoding };
    const data = reader.getFileData();
    if (data.error) throw new ExtractionError('corrupt', `Unreadable Outlook message: ${data.error}`);
    return { reader, data };
  } catch (err) {
    if (err instanceof ExtractionError) throw err;
    throw new ExtractionError('corrupt', `Unreadable Outlook message: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function readAttachment(reader: InstanceType<MsgReaderClass>, field: FieldsData): Uint8Array {
  try {
    return reader.getAttachment(field).content;
  } catch (err) {
    throw new ExtractionError('corrupt', `Unreadable attachment: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Exchange-internal addresses (/O=ORG/OU=.../CN=NAME) are not e-mail addresses. */
function smtpOnly(address: string | undefined): string | undefined {
  return address && address.includes('@') && !address.startsWith('/') ? address : undefined;
}

function htmlCharset(codepage: number | undefined): string {
  if (codepage === undefined || codepage === 65001) return 'utf-8';
  try {
    return new TextDecoder(`windows-${codepage}`).encoding;
  } catch (err) {
    if (err instanceof RangeError) return 'utf-8';
    throw err;
  }
}
