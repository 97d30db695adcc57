/**
 * What .eml and .msg have in common: the facts of a message, mapped once to our properties and
 * to the keys Apache Tika reports for mail, and the list of its attachments (which the engine
 * extracts as child documents).
 */
import type { ChildSource, ExtractorOutput } from './extractor.ts';
import type { DocumentProperties, RawValue } from './types.ts';

export interface MailAttachment {
  /** The file name the message gives it ('' when none: the extractor supplies one). */
  name: string;
  mimeType: string;
  size: number;
  bytes: () => Uint8Array;
}

export interface MailFacts {
  subject?: string;
  /** 'Name <address>' or the bare address. */
  from?: string;
  to: string[];
  cc: string[];
  bcc: string[];
  /** When it was sent; any form Date.parse reads. */
  sent?: string;
  messageId?: string;
  inReplyTo?: string;
  text: string;
  /** The body existed only as HTML (its text comes from html.ts). */
  htmlBody: boolean;
  attachments: MailAttachment[];
  warnings: string[];
}

/** 'Name <address>', the address alone, or the name alone (an Exchange recipient without SMTP address). */
export function formatMailbox(name: string | undefined, address: string | undefined): string | undefined {
  const n = name?.trim().replace(/^'(.*)'$/, '$1');
  const a = address?.trim();
  if (n && a && n !== a) return `${n} <${a}>`;
  return a || n || undefined;
}

/** File extension for an attachment that has no name, so detection's tie-breaks and users see its kind. */
export function extensionForMimeType(mimeType: string): string {
  const known: Record<string, string> = {
    'message/rfc822': '.eml',
    'application/vnd.ms-outlook': '.msg',
    'text/plain': '.txt',
    'text/html': '.html',
    'text/calendar': '.ics',
    'application/pdf': '.pdf',
    'image/png': '.png',
    'image/jpeg': '.jpg',
    'image/gif': '.gif',
    'image/tiff': '.tif',
  };
  return known[mimeType.toLowerCase()] ?? '';
}

export function mailOutput(m: MailFacts): ExtractorOutput {
  const properties: DocumentProperties = {};
  const raw: Record<string, RawValue> = {};
  const subject = m.subject?.trim();
  if (subject) {
    properties.title = subject;
    raw['dc:title'] = subject;
  }
  if (m.from) {
    properties.creator = m.from;
    raw['dc:creator'] = m.from;
    raw['Message-From'] = m.from;
  }
  if (m.to.length) raw['Message-To'] = m.to;
  if (m.cc.length) raw['Message-Cc'] = m.cc;
  if (m.bcc.length) raw['Message-Bcc'] = m.bcc;
  const sent = m.sent ? Date.parse(m.sent) : NaN;
  if (Number.isFinite(sent)) {
    properties.created = new Date(sent).toISOString();
    raw['dcterms:created'] = properties.created;
  } else if (m.sent) {
    m.warnings.push(`unreadable sent date: ${m.sent}`);
  }
  if (m.messageId) {
    properties.identifier = m.messageId;
    raw['Message:Raw-Header:Message-ID'] = m.messageId;
  }
  if (m.inReplyTo) raw['Message:Raw-Header:In-Reply-To'] = m.inReplyTo;
  const childSources: ChildSource[] = m.attachments.map((a) => ({ name: a.name, kind: 'attachment', read: a.bytes }));
  if (m.attachments.length) {
    raw['X-Attachment-Names'] = m.attachments.map((a) => a.name);
    raw['X-Attachment-Types'] = m.attachments.map((a) => a.mimeType);
    raw['X-Attachment-Sizes'] = m.attachments.map((a) => String(a.size));
  }
  const out: ExtractorOutput = {
    properties,
    raw,
    text: m.text.replace(/\r\n?/g, '\n').trim(),
    structure: { attachments: m.attachments.length, htmlBody: m.htmlBody },
    childSources,
  };
  if (m.warnings.length) out.warnings = m.warnings;
  return out;
}
