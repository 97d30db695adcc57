/** Numbers, sizes and dates as people read them on the dashboard. */
import type { PiiKind } from './vocabulary.ts';

const nf = new Intl.NumberFormat('en-GB');

export const num = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : nf.format(n));

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function date(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString('en-GB', { year: 'numeric', month: 'short', day: 'numeric' });
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export const percent = (ratio: number): string => `${(ratio * 100).toFixed(ratio >= 0.995 || ratio === 0 ? 0 : 1)}%`;

export const usd = (n: number): string => `$${n < 1 ? n.toFixed(4) : n.toFixed(2)}`;

export const folderLabel = (folder: string | null): string => (!folder || folder === '.' ? 'Documents root' : folder);

/** How the dashboard names each kind of personal data. */
export const PII_LABELS: Record<PiiKind, string> = {
  bsn: 'Citizen service numbers (BSN)',
  iban: 'IBANs',
  card: 'Payment card numbers',
  email: 'E-mail addresses',
  phone: 'Phone numbers',
  birthdate: 'Dates of birth',
};
