/**
 * How a found value is shown: enough to recognise it in a list, never enough to use it. Only masked
 * strings leave the detectors; the clear values live in memory while one document is scanned.
 */

const stars = (n: number) => '*'.repeat(Math.max(0, n));

/** `NL91ABNA0417164300` → `NL91 **** **** **** 00`: country and check digits, the last 2 characters. */
export function maskIban(electronic: string): string {
  const masked = electronic.slice(0, 4) + stars(electronic.length - 6) + electronic.slice(-2);
  return masked.replace(/(.{4})(?=.)/g, '$1 ');
}

/** `4111111111111111` → `*****1111`: the last 4 digits, as card receipts print them. */
export function maskCard(digits: string): string {
  return `*****${digits.slice(-4)}`;
}

/**
 * `111222333` → `******333`: the last 3 digits. A BSN is a national identifier; 3 digits tell two
 * samples apart without giving away most of one.
 */
export function maskBsn(digits: string): string {
  return stars(6) + digits.slice(-3);
}

/** `anna@example.nl` → `a***@example.nl`: the first character of the name, the domain. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  return `${address.slice(0, 1)}***${address.slice(at)}`;
}

/** `+31612345678` → `+31*******78`: the country calling code and the last 2 digits. */
export function maskPhone(e164: string, callingCode: string): string {
  const national = e164.slice(1 + callingCode.length);
  return `+${callingCode}${stars(national.length - 2)}${national.slice(-2)}`;
}

/** `1980-03-12` → `**-**-1980`: the year only. */
export function maskBirthdate(isoDate: string): string {
  return `**-**-${isoDate.slice(0, 4)}`;
}
