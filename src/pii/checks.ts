/**
 * The checks that tell a real identifier from a look-alike: the Dutch 11-test, Luhn with the card
 * issuers' ranges, and ISO 13616 (through ibantools). Pure functions over digit strings.
 */
import { getCountrySpecifications, isValidIBAN } from 'ibantools';

/**
 * The 11-test of a citizen service number (BSN): 9×d1 + 8×d2 + ... + 2×d8 − 1×d9 is a multiple
 * of 11. All zeros passes the sum but is no number anyone holds.
 */
export function isValidBsn(digits: string): boolean {
  if (!/^\d{9}$/.test(digits) || digits === '000000000') return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * (digits.charCodeAt(i) - 48);
  sum -= digits.charCodeAt(8) - 48;
  return sum % 11 === 0;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Issuer ranges (IIN prefixes) with the lengths their cards have. */
const ISSUERS: { name: string; test: (d: string) => boolean; lengths: number[] }[] = [
  { name: 'visa', test: (d) => d.startsWith('4'), lengths: [13, 16, 19] },
  { name: 'mastercard', test: (d) => inRange(d, 2, 51, 55) || inRange(d, 4, 2221, 2720), lengths: [16] },
  { name: 'amex', test: (d) => d.startsWith('34') || d.startsWith('37'), lengths: [15] },
  {
    name: 'discover',
    test: (d) => d.startsWith('6011') || d.startsWith('65') || inRange(d, 3, 644, 649) || inRange(d, 6, 622126, 622925),
    lengths: [16, 17, 18, 19],
  },
  { name: 'maestro', test: (d) => d.startsWith('50') || inRange(d, 2, 56, 69), lengths: [12, 13, 14, 15, 16, 17, 18, 19] },
  { name: 'jcb', test: (d) => inRange(d, 4, 3528, 3589), lengths: [16, 17, 18, 19] },
  { name: 'diners', test: (d) => inRange(d, 3, 300, 305) || d.startsWith('36') || d.startsWith('38') || d.startsWith('39'), lengths: [14, 15, 16, 17, 18, 19] },
];

function inRange(digits: string, width: number, low: number, high: number): boolean {
  const n = Number(digits.slice(0, width));
  return n >= low && n <= high;
}

/** The issuer of a card number that passes Luhn and lies in an issuer's range and lengths (else null). */
export function cardIssuer(digits: string): string | null {
  if (!/^\d{12,19}$/.test(digits) || !luhnValid(digits)) return null;
  return ISSUERS.find((i) => i.lengths.includes(digits.length) && i.test(digits))?.name ?? null;
}

const IBAN_LENGTHS = new Map(Object.entries(getCountrySpecifications()).flatMap(([cc, spec]) => (spec.chars ? [[cc, spec.chars] as const] : [])));

/** The length of an IBAN of this country (undefined: no IBANs there). */
export function ibanLength(countryCode: string): number | undefined {
  return IBAN_LENGTHS.get(countryCode);
}

/** ISO 13616: the country's length and BBAN format, and the mod-97 check digits. */
export function isValidIban(electronic: string): boolean {
  return isValidIBAN(electronic);
}
