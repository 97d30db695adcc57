/**
 * Open Packaging Conventions (the container of .docx/.xlsx/.pptx): relationships and the three
 * property parts. Parts are found through relationships, never by fixed path, because real
 * packages put the main part where they like (word/document22.xml) and Strict OOXML renames
 * the relationship types.
 */
import { attrOf, attrsOf, decodeSafeXml, leafValues, scannableXml, XmlScanner, type ScannableXml } from './xml-scan.ts';
import type { ZipArchive } from './zip.ts';
import type { DocumentProperties, RawValue } from './types.ts';

export interface Relationship {
  id: string;
  /**
   * Last path segment of the type URI, lower-cased without dashes, so Transitional
   * (.../extended-properties) and Strict (.../extendedProperties) agree: officedocument, header,
   * coreproperties, extendedproperties, customproperties, afchunk, ...
   */
  type: string;
  /** Resolved part name (no leading slash) or the external URL as written. */
  target: string;
  external: boolean;
}

/** Reads a part as XML that is safe to scan (see safeXml); undefined when missing. */
export function readXml(zip: ZipArchive, part: string): string | undefined {
  const data = zip.read(part);
  if (data === undefined) return undefined;
  const safe = decodeSafeXml(data, part);
  if (safe.warning !== undefined) notePartWarning(zip, safe.warning);
  return safe.xml;
}

/** Reads a part prepared for one forward scan (see ScannableXml); undefined when missing. */
export function readScannableXml(zip: ZipArchive, part: string): ScannableXml | undefined {
  const data = zip.read(part);
  if (data === undefined) return undefined;
  const safe = scannableXml(data, part);
  if (safe.warning !== undefined) notePartWarning(zip, safe.warning);
  return safe;
}

/** A part can be read more than once (relationships, [Content_Types].xml): its warning is kept once. */
function notePartWarning(zip: ZipArchive, warning: string): void {
  if (!zip.partWarnings.includes(warning)) zip.partWarnings.push(warning);
}

/** The .rels part that holds a part's relationships ('' for the package itself). */
export function relsPartOf(part: string): string {
  const slash = part.lastIndexOf('/');
  return slash < 0 ? `_rels/${part}.rels` : `${part.slice(0, slash)}/_rels/${part.slice(slash + 1)}.rels`;
}

const RELATIONSHIP_ATTRS = ['Id', 'Type', 'Target', 'TargetMode'];

export function readRelationships(zip: ZipArchive, sourcePart: string): Relationship[] {
  const relsName = sourcePart === '' ? '_rels/.rels' : relsPartOf(sourcePart);
  const xml = readXml(zip, relsName);
  if (!xml) return [];
  const baseDir = sourcePart.includes('/') ? sourcePart.slice(0, sourcePart.lastIndexOf('/')) : '';
  const rels: Relationship[] = [];
  const s = new XmlScanner(xml);
  while (s.next()) {
    if (s.closing || s.name !== 'Relationship') continue;
    const [id = '', type = '', target = '', mode = ''] = attrsOf(xml.slice(s.tagStart, s.tagEnd), RELATIONSHIP_ATTRS);
    const external = mode.toLowerCase() === 'external';
    const typeName = type.slice(type.lastIndexOf('/') + 1).toLowerCase();
    rels.push({
      id,
      type: typeName.includes('-') ? typeName.replace(/-/g, '') : typeName,
      target: external ? target : resolvePartName(baseDir, target),
      external,
    });
  }
  return rels;
}

/** Resolves a relationship target against the source part's folder. */
export function resolvePartName(baseDir: string, target: string): string {
  // Nearly every target is a plain relative name ("header1.xml", "media/image1.png"): nothing
  // to decode or normalise, so it is the folder joined to the target as written.
  if (isPlainRelativeName(target) && isPlainFolder(baseDir)) return baseDir === '' ? target : `${baseDir}/${target}`;
  let t = target;
  try {
    t = decodeURIComponent(target);
  } catch {
    // A malformed %-escape: keep the target as written; the part lookup will just miss.
    t = target;
  }
  const segments = t.startsWith('/') ? [] : baseDir.split('/').filter(Boolean);
  for (const seg of t.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  return segments.join('/');
}

/** No %-escapes and no empty, '.' or '..' segments (a segment ending in '.' is refused too, to keep the test cheap). */
function isPlainRelativeName(target: string): boolean {
  return (
    target !== '' &&
    target.indexOf('%') < 0 &&
    target.indexOf('//') < 0 &&
    target.indexOf('./') < 0 &&
    !target.startsWith('/') &&
    !target.endsWith('/') &&
    !target.endsWith('.')
  );
}

/** A folder whose segments are all non-empty ('' is the package root). */
function isPlainFolder(dir: string): boolean {
  return dir === '' || (dir.indexOf('//') < 0 && !dir.startsWith('/') && !dir.endsWith('/'));
}

export function firstRel(rels: Relationship[], type: string): Relationship | undefined {
  return rels.find((r) => r.type === type && !r.external);
}

/** Main-part content types from [Content_Types].xml, used when _rels/.rels is missing or wrong. */
export function overridesByContentType(zip: ZipArchive): Map<string, string> {
  const out = new Map<string, string>();
  const xml = readXml(zip, '[Content_Types].xml');
  if (!xml) return out;
  const s = new XmlScanner(xml);
  while (s.next()) {
    if (s.closing || s.name !== 'Override') continue;
    const tag = xml.slice(s.tagStart, s.tagEnd);
    const part = attrOf(tag, 'PartName');
    const ct = attrOf(tag, 'ContentType');
    if (part && ct && !out.has(ct)) out.set(ct, part.replace(/^\//, ''));
  }
  return out;
}

export interface PackageProperties {
  properties: DocumentProperties;
  raw: Record<string, RawValue>;
  warnings: string[];
}

const CORE_FIELDS: ReadonlyArray<[string, keyof DocumentProperties, string]> = [
  ['title', 'title', 'dc:title'],
  ['subject', 'subject', 'dc:subject'],
  ['creator', 'creator', 'dc:creator'],
  ['keywords', 'keywords', 'meta:keyword'],
  ['description', 'description', 'dc:description'],
  ['lastModifiedBy', 'lastModifiedBy', 'meta:last-author'],
  ['revision', 'revision', 'cp:revision'],
  ['created', 'created', 'dcterms:created'],
  ['modified', 'modified', 'dcterms:modified'],
  ['lastPrinted', 'lastPrinted', 'meta:print-date'],
  ['category', 'category', 'cp:category'],
  ['contentStatus', 'contentStatus', 'cp:contentStatus'],
  ['language', 'language', 'dc:language'],
  ['version', 'version', 'cp:version'],
  ['identifier', 'identifier', 'dc:identifier'],
  ['contentType', 'contentType', 'cp:contentType'],
];

const APP_TEXT: ReadonlyArray<[string, keyof DocumentProperties, string]> = [
  ['Application', 'application', 'extended-properties:Application'],
  ['AppVersion', 'appVersion', 'extended-properties:AppVersion'],
  ['Template', 'template', 'extended-properties:Template'],
  ['Company', 'company', 'extended-properties:Company'],
  ['Manager', 'manager', 'extended-properties:Manager'],
];

const APP_NUMBERS: ReadonlyArray<[string, keyof DocumentProperties, string]> = [
  ['Pages', 'pages', 'meta:page-count'],
  ['Words', 'words', 'meta:word-count'],
  ['Characters', 'characters', 'meta:character-count'],
  ['CharactersWithSpaces', 'charactersWithSpaces', 'meta:character-count-with-spaces'],
  ['Paragraphs', 'paragraphs', 'meta:paragraph-count'],
  ['Lines', 'lines', 'meta:line-count'],
  ['Slides', 'slides', 'meta:slide-count'],
  ['Notes', 'notes', 'extended-properties:Notes'],
  ['TotalTime', 'totalEditingTimeMinutes', 'extended-properties:TotalTime'],
];

const DOC_SECURITY: Record<string, string> = {
  '0': 'None',
  '1': 'PasswordProtected',
  '2': 'ReadOnlyRecommended',
  '4': 'ReadOnlyEnforced',
  '8': 'LockedForAnnotations',
};

const DATE_FIELDS = new Set(['created', 'modified', 'lastPrinted']);

/** Core, extended (app) and custom properties of a package; every part is optional. */
export function readPackageProperties(zip: ZipArchive, packageRels: Relationship[]): PackageProperties {
  const properties: DocumentProperties = {};
  const raw: Record<string, RawValue> = {};
  const warnings: string[] = [];
  const set = (key: keyof DocumentProperties, value: string | number) => {
    (properties as Record<string, unknown>)[key] = value;
  };

  const corePart = firstRel(packageRels, 'coreproperties')?.target ?? 'docProps/core.xml';
  const core = readXml(zip, corePart);
  if (core === undefined) warnings.push('no core properties part');
  else {
    if (zip.duplicates.some((d) => d.toLowerCase().endsWith('core.xml'))) warnings.push('duplicate core properties part; the first was used');
    warnings.push(...coreComplianceProblems(core, packageRels));
    const values = leafValues(core);
    for (const [element, key, tika] of CORE_FIELDS) {
      const v = values.get(element)?.find((x) => x !== '');
      if (v === undefined) continue;
      const value = DATE_FIELDS.has(element) ? normaliseDate(v) : v;
      if (value === undefined) continue;
      set(key, value);
      raw[tika] = value;
    }
    if (properties.creator?.includes(';')) {
      // Tika reports several authors as a multi-valued dc:creator.
      raw['dc:creator'] = properties.creator.split(';').map((a) => a.trim()).filter(Boolean);
    }
  }

  const appPart = firstRel(packageRels, 'extendedproperties')?.target ?? 'docProps/app.xml';
  const app = readXml(zip, appPart);
  if (app === undefined) warnings.push('no extended (app) properties part');
  else {
    const values = leafValues(app);
    for (const [element, key, tika] of APP_TEXT) {
      const v = values.get(element)?.[0];
      if (v === undefined || v === '') continue;
      set(key, v);
      raw[tika] = v;
    }
    for (const [element, key, tika] of APP_NUMBERS) {
      const v = values.get(element)?.[0];
      if (v === undefined || v === '') continue;
      const n = Number(v);
      if (!Number.isFinite(n)) continue;
      set(key, n);
      raw[tika] = n;
    }
    const security = values.get('DocSecurity')?.[0];
    if (security !== undefined && security !== '') raw['extended-properties:DocSecurityString'] = DOC_SECURITY[security] ?? 'Unknown';
  }

  const customPart = firstRel(packageRels, 'customproperties')?.target ?? 'docProps/custom.xml';
  const custom = readXml(zip, customPart);
  if (custom !== undefined) {
    const props = readCustomProperties(custom);
    if (Object.keys(props).length > 0) {
      properties.custom = props;
      for (const [name, value] of Object.entries(props)) raw[`custom:${name}`] = value;
    }
  }
  return { properties, raw, warnings };
}

/** docProps/custom.xml: each <property name=".."> holds one typed vt: value. */
export function readCustomProperties(xml: string): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  const s = new XmlScanner(xml);
  let name: string | undefined;
  while (s.next()) {
    if (s.closing) {
      if (s.name === 'property') name = undefined;
      continue;
    }
    if (s.name === 'property') {
      name = s.attr('name');
      continue;
    }
    if (name === undefined || s.selfClosing) continue;
    const type = s.name;
    const text = s.elementText().trim();
    out[name] = typedValue(type, text);
    name = undefined;
  }
  return out;
}

function typedValue(type: string, text: string): string | number | boolean {
  switch (type) {
    case 'bool':
      return text === 'true' || text === '1';
    case 'i1': case 'i2': case 'i4': case 'i8': case 'int':
    case 'ui1': case 'ui2': case 'ui4': case 'ui8': case 'uint':
    case 'r4': case 'r8': case 'decimal': {
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    case 'filetime': case 'date':
      return normaliseDate(text) ?? text;
    default:
      return text;
  }
}

/** Keeps W3CDTF/ISO dates as written (they are ISO 8601); drops values that are not dates. */
export function normaliseDate(value: string): string | undefined {
  const v = value.trim();
  if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) return v;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** Signature parts, macros and protection are visible from the package listing and settings. */
export function packageFacts(zip: ZipArchive, packageRels: Relationship[]): { macros: boolean; hasSignature: boolean } {
  let macros = false;
  let hasSignature = packageRels.some((r) => r.type === 'origin');
  for (const e of zip.entries) {
    const n = e.name.toLowerCase();
    if (n.endsWith('vbaproject.bin')) macros = true;
    if (n.startsWith('_xmlsignatures/') && n.endsWith('.xml') && !n.endsWith('origin.sigs')) hasSignature = true;
  }
  return { macros, hasSignature };
}

/**
 * OPC Part 2 rules for the core properties part (M4.2-M4.5) that Apache POI rejects on: we still
 * read the values, but flag the package so the insight shows it is non-conformant.
 */
function coreComplianceProblems(core: string, packageRels: Relationship[]): string[] {
  const problems: string[] = [];
  if (packageRels.filter((r) => r.type === 'coreproperties').length > 1) problems.push('OPC M4.1: more than one core properties part');
  if (core.includes('http://schemas.openxmlformats.org/markup-compatibility/2006')) problems.push('OPC M4.2: core properties use markup compatibility');
  for (const m of core.matchAll(/<dcterms:(\w+)/g)) {
    const name = m[1] ?? '';
    if (name !== 'created' && name !== 'modified') problems.push(`OPC M4.3: dcterms:${name} is not allowed in core properties`);
  }
  if (/\sxml:lang\s*=/.test(core)) problems.push('OPC M4.4: xml:lang attribute in core properties');
  for (const m of core.matchAll(/<dcterms:(created|modified)\b([^>]*)>/g)) {
    if (!/xsi:type\s*=\s*["']dcterms:W3CDTF["']/.test(m[2] ?? '')) problems.push(`OPC M4.5: dcterms:${m[1] ?? ''} lacks xsi:type="dcterms:W3CDTF"`);
  }
  return problems;
}
