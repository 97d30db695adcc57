/**
 * Whether a PDF page needs OCR, decided from its text layer and its drawing operators. Apart from
 * pdf.ts so that extraction can ask it without loading the image libraries OCR renders with.
 */
import type { getDocumentProxy } from 'unpdf';

type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;

/** A page whose text layer has fewer letters than this is read as having none. */
const MIN_LETTERS = 20;
/** Letters among a text layer's visible characters below which the layer is garbage (broken font encodings). */
const MIN_LETTER_SHARE = 0.5;

/** Is a page's text layer worth keeping: enough letters, and mostly letters (not a broken font encoding)? */
export function textLayerUsable(text: string): boolean {
  const { letters, visible } = countLetters(text);
  return letters >= MIN_LETTERS && letters >= visible * MIN_LETTER_SHARE;
}

type PdfPage = Awaited<ReturnType<PdfDocument['getPage']>>;

let imageOperators: Promise<ReadonlySet<number>> | undefined;

/** Does the page draw an image (its operator list is read: call it only when the answer matters)? */
export async function pageShowsImages(page: PdfPage): Promise<boolean> {
  imageOperators ??= import('unpdf')
    .then((m) => m.getResolvedPDFJS())
    .then(
      ({ OPS }) =>
        new Set<number>([
          OPS.paintImageXObject,
          OPS.paintInlineImageXObject,
          OPS.paintInlineImageXObjectGroup,
          OPS.paintImageXObjectRepeat,
          OPS.paintImageMaskXObject,
          OPS.paintImageMaskXObjectGroup,
          OPS.paintImageMaskXObjectRepeat,
        ]),
    );
  const ops = await imageOperators;
  return (await page.getOperatorList()).fnArray.some((op) => ops.has(op));
}

export function countLetters(text: string): { letters: number; visible: number } {
  let letters = 0;
  let visible = 0;
  for (const ch of text) {
    if (/\s/u.test(ch)) continue;
    visible++;
    if (/\p{L}/u.test(ch)) letters++;
  }
  return { letters, visible };
}
