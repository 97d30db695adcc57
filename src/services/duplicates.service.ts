/**
 * Duplicates and versions: exact copies (the same sha256) and near copies (MinHash signatures whose
 * estimated similarity passes the threshold), grouped per folder; and the documents like one
 * document. Candidates are the contents sharing an LSH band, found in one paged pass over the
 * folder's files (duplicates/band-index.ts); every candidate pair is verified on the whole
 * signature here, and groups are the connected contents (union-find), so the work grows with the
 * folder and the buckets that collide, not with the square of the folder.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { DuplicateGroup, DuplicateGroupMember, DuplicatesPage, DuplicatesSummary, SimilarDocument } from '../contract.ts';
import { canSee, type Principal } from '../domain/access.ts';
import { notFound } from '../domain/errors.ts';
import { versionHints } from '../domain/versions.ts';
import { estimateSimilarity, minhashSignature } from '../extract/minhash.ts';
import type { DuplicateMember, DuplicatesRepository } from '../store/duplicates.repository.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { createBandIndex } from './duplicates/band-index.ts';

export interface DuplicatesServiceDeps {
  repo: DuplicatesRepository;
  /** DUPLICATE_SIMILARITY. */
  threshold: number;
  /** The folder as the caller may read it (visible and known), or a coded error. */
  knownFolder(path: string, access: Principal): Promise<{ rel: string }>;
}

/** Where one file stands in the duplicate groups of a folder. */
export interface DuplicateMembership {
  /** The group's key (its lowest sha256), as GET /v1/folders/{path}/duplicates has it. */
  group: string;
  kind: DuplicateGroup['kind'];
  /** The oldest member with the same bytes, when this file is a later copy of it; null otherwise. */
  duplicateOf: string | null;
  /** Estimated similarity to the group's newest member (1: the same bytes). */
  similarity: number;
}

/** Buckets up to this size are verified pair by pair; larger ones along a star and a chain (linear). */
const ALL_PAIRS_UP_TO = 16;
/** Candidates read for one document's similar list. */
const SIMILAR_CANDIDATES = 500;

const PageCursor = z.tuple([z.number().int().min(0)]);

/**
 * Union-find over content ids (duplicates/band-index.ts numbers them), keeping the lowest verified
 * similarity of each component. Components and their similarities do not depend on the order of
 * the links: a component is the connected contents, its similarity the minimum over its links.
 */
function contentGroups(contents: number): {
  link(a: number, b: number, similarity: number): void;
  components(): { contents: number[]; similarity: number }[];
} {
  // parent[x] < 0: x was never linked (and is its own root).
  const parent = new Int32Array(contents).fill(-1);
  const weakest = new Float64Array(contents).fill(1);
  const find = (x: number): number => {
    let root = x;
    while (parent[root]! >= 0 && parent[root] !== root) root = parent[root]!;
    // Path compression: every node on the way points at the root.
    let node = x;
    while (node !== root) {
      const next = parent[node]!;
      parent[node] = root;
      node = next;
    }
    return root;
  };
  return {
    link(a, b, similarity) {
      const ra = find(a);
      const rb = find(b);
      const root = ra < rb ? ra : rb;
      const w = Math.min(similarity, weakest[ra]!, weakest[rb]!);
      parent[ra] = root;
      parent[rb] = root;
      weakest[root] = w;
    },
    components() {
      const byRoot = new Map<number, { contents: number[]; similarity: number }>();
      for (let x = 0; x < contents; x++) {
        if (parent[x]! < 0) continue;
        const r = find(x);
        const c = byRoot.get(r);
        if (c) c.contents.push(x);
        else byRoot.set(r, { contents: [x], similarity: weakest[r]! });
      }
      return [...byRoot.values()];
    },
  };
}

const byModified = (a: DuplicateMember, b: DuplicateMember) =>
  a.modified.getTime() - b.modified.getTime() || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** A group as the grouping finds it: its members oldest first, each with its similarity to the newest. */
interface FoundGroup {
  key: string;
  kind: DuplicateGroup['kind'];
  similarity: number;
  size: number;
  wastedBytes: number;
  members: { member: DuplicateMember; similarity: number; exactCopy: boolean }[];
}

function toGroup(members: DuplicateMember[], similarity: number, signatureOf: (sha: string) => ArrayLike<number> | undefined): FoundGroup {
  members.sort(byModified);
  const newest = members[members.length - 1]!;
  const newestSig = signatureOf(newest.sha256);
  const copies = new Map<string, number>();
  for (const m of members) copies.set(m.sha256, (copies.get(m.sha256) ?? 0) + 1);
  const size = members.reduce((n, m) => n + m.size, 0);
  const largest = members.reduce((n, m) => Math.max(n, m.size), 0);
  const kind = copies.size === 1 ? 'exact' : 'near';
  return {
    key: [...copies.keys()].sort()[0]!,
    kind,
    similarity: kind === 'exact' ? 1 : similarity,
    size,
    wastedBytes: size - largest,
    members: members.map((m) => {
      const sig = signatureOf(m.sha256);
      return {
        member: m,
        similarity: m.sha256 === newest.sha256 ? 1 : sig && newestSig ? estimateSimilarity(sig, newestSig) : 0,
        exactCopy: (copies.get(m.sha256) ?? 0) > 1,
      };
    }),
  };
}

/**
 * A group as the API shows it (dates as text, the version words of each name): made only for the
 * groups a page shows, not for every group the grouping found.
 */
function present(g: FoundGroup): DuplicateGroup {
  return {
    key: g.key,
    kind: g.kind,
    similarity: g.similarity,
    size: g.size,
    wastedBytes: g.wastedBytes,
    members: g.members.map(({ member: m, similarity, exactCopy }): DuplicateGroupMember => ({
      id: m.id,
      path: m.path,
      name: m.name,
      size: m.size,
      modified: m.modified.toISOString(),
      sha256: m.sha256,
      similarity,
      exactCopy,
      versionHints: versionHints(m.name),
    })),
  };
}

function summarise(groups: FoundGroup[]): DuplicatesSummary {
  return {
    groups: groups.length,
    exactGroups: groups.filter((g) => g.kind === 'exact').length,
    nearGroups: groups.filter((g) => g.kind === 'near').length,
    documents: groups.reduce((n, g) => n + g.members.length, 0),
    wastedBytes: groups.reduce((n, g) => n + g.wastedBytes, 0),
  };
}

export function createDuplicatesService(deps: DuplicatesServiceDeps) {
  const { repo, threshold } = deps;

  /** Every duplicate group inside a folder the caller may read whole, most wasted bytes first. */
  async function groupsIn(folder: string): Promise<FoundGroup[]> {
    const index = createBandIndex();
    // Signatures by content id; undefined: not read (not a candidate nor a copy), or none stored.
    const signature: (Int32Array | undefined)[] = [];
    // The files of every content that may be in a group: exact copies and candidates.
    const held: DuplicateMember[] = [];
    const asked = new Set<number>();
    // A content's signature and files are read as soon as it is a candidate or a copy, while the
    // folder's later pages still are: the database and this process overlap instead of taking
    // turns (read after the last page, the files alone kept the grouping waiting a fifth of its
    // time). One read at a time, in the order the contents came; the few candidates that join no
    // group, and the signatures of copies that are no candidates (verification never asks for
    // them), cost less than a statement waited for.
    let read = Promise.resolve();
    const readNew = () => {
      const holders = [...index.newCandidates(), ...index.newCopies()].filter((id) => !asked.has(id));
      for (const id of holders) asked.add(id);
      if (holders.length === 0) return;
      const bySha = new Map(holders.map((id) => [index.sha256(id), id]));
      read = read.then(async () => {
        const found = await repo.holders(folder, [...bySha.keys()]);
        for (const [sha, sig] of found.signatures) signature[bySha.get(sha)!] = sig;
        for (const m of found.members) held.push(m);
      });
      // Awaited below; a grouping that fails before that leaves it unheard, and that is no failure.
      read.catch(() => undefined);
    };
    for await (const page of repo.bandedFiles(folder)) {
      index.addPage(page);
      readNew();
    }
    readNew();
    const { contents: inBuckets, starts } = index.buckets();
    const exact = index.exactContents();
    await read;
    const groups = contentGroups(index.contents);
    for (const id of exact) groups.link(id, id, 1);
    const verify = (a: number, b: number) => {
      const sa = signature[a];
      const sb = signature[b];
      if (!sa || !sb) return;
      const s = estimateSimilarity(sa, sb);
      if (s >= threshold) groups.link(a, b, s);
    };
    for (let k = 0; k + 1 < starts.length; k++) {
      const from = starts[k]!;
      const to = starts[k + 1]!;
      if (to - from <= ALL_PAIRS_UP_TO) {
        for (let i = from; i < to; i++) for (let j = i + 1; j < to; j++) verify(inBuckets[i]!, inBuckets[j]!);
      } else {
        // A large bucket is near copies of one text or a false collision: a star from its first
        // content and a chain through it link the first kind and verify the second cheaply.
        for (let i = from + 1; i < to; i++) {
          verify(inBuckets[from]!, inBuckets[i]!);
          verify(inBuckets[i - 1]!, inBuckets[i]!);
        }
      }
    }
    const components = groups.components();
    const holders = new Map<string, DuplicateMember[]>();
    for (const m of held) {
      const list = holders.get(m.sha256);
      if (list) list.push(m);
      else holders.set(m.sha256, [m]);
    }
    const out: FoundGroup[] = [];
    for (const c of components) {
      const inGroup = c.contents.flatMap((id) => holders.get(index.sha256(id)) ?? []);
      if (inGroup.length < 2) continue;
      const signatures = new Map(c.contents.map((id) => [index.sha256(id), signature[id]]));
      out.push(toGroup(inGroup, c.similarity, (sha) => signatures.get(sha)));
    }
    return out.sort((a, b) => b.wastedBytes - a.wastedBytes || (a.key < b.key ? -1 : 1));
  }

  return {
    /**
     * A page of the folder's duplicate groups. A scoped caller reads only folders inside its
     * scope (knownFolder refuses others), so every document of such a folder is one it may see.
     */
    async forFolder(path: string, access: Principal, page: { limit: number; cursor?: string }): Promise<DuplicatesPage> {
      const { rel } = await deps.knownFolder(path, access);
      const all = await groupsIn(rel);
      const [offset] = page.cursor ? decodeCursor(page.cursor, PageCursor) : [0];
      const items = all.slice(offset, offset + page.limit).map(present);
      const next = offset + items.length;
      return { folder: rel, threshold, summary: summarise(all), items, nextCursor: next < all.length ? encodeCursor([next]) : null };
    },

    /**
     * Each file of the folder that is in a duplicate group, by document id, for exports (the
     * caller has checked access to the folder). Holds the group members only, not the folder.
     */
    async membership(folder: string): Promise<Map<string, DuplicateMembership>> {
      const out = new Map<string, DuplicateMembership>();
      for (const g of await groupsIn(folder)) {
        // Members are oldest first: the first holder of some bytes is the original of the others.
        const firstHolder = new Map<string, string>();
        for (const { member: m, similarity } of g.members) {
          const original = firstHolder.get(m.sha256);
          if (original === undefined) firstHolder.set(m.sha256, m.path);
          out.set(m.id, { group: g.key, kind: g.kind, duplicateOf: original ?? null, similarity });
        }
      }
      return out;
    },

    /** Figures for folder insights (the caller has checked access to the folder). */
    async summary(folder: string): Promise<DuplicatesSummary> {
      return summarise(await groupsIn(folder));
    },

    /** The documents the caller may see that hold the same bytes as this one or pass the threshold, most alike first. */
    async similar(id: string, access: Principal): Promise<{ threshold: number; items: SimilarDocument[] }> {
      const { self, others } = await repo.similarCandidates(id, SIMILAR_CANDIDATES);
      if (!self || !canSee(access, self.filePath)) throw notFound(`Document not found: ${id}`);
      const items: SimilarDocument[] = [];
      for (const o of others) {
        if (!canSee(access, o.filePath)) continue;
        const identical = o.sha256 === self.sha256;
        const similarity = identical ? 1 : self.minhash && o.minhash ? estimateSimilarity(self.minhash, o.minhash) : 0;
        if (!identical && similarity < threshold) continue;
        items.push({
          id: o.id,
          path: o.path,
          name: o.name,
          size: o.size,
          modified: o.modified.toISOString(),
          similarity,
          identical,
          versionHints: versionHints(o.name),
        });
      }
      items.sort((a, b) => b.similarity - a.similarity || (a.path < b.path ? -1 : 1));
      return { threshold, items };
    },
  };
}

export type DuplicatesService = ReturnType<typeof createDuplicatesService>;

/** Documents read per statement by the signature backfill. */
const BACKFILL_BATCH = 200;

/**
 * Give a signature (and its LSH bands) to every document whose stored text has none of today's
 * format: documents extracted before signatures existed (migration 0013), OCR'd before OCR signed
 * its text, or signed in an older format (which compares with today's as unrelated). The signature
 * is computed from the stored text, which is the text extraction would sign, so no file is read
 * again. Run by `docsight duplicates backfill`; `onProgress` gets the running counts.
 */
export async function backfillSignatures(
  repo: Pick<DuplicatesRepository, 'unsigned' | 'saveSignatures'>,
  onProgress?: (p: { read: number; signed: number }) => void,
): Promise<{ read: number; signed: number }> {
  let after: string | null = null;
  const totals = { read: 0, signed: 0 };
  for (;;) {
    const page = await repo.unsigned(after, BACKFILL_BATCH);
    if (page.length === 0) return totals;
    after = page[page.length - 1]!.id;
    const signed = page.flatMap((d) => {
      const minhash = minhashSignature(d.text);
      return minhash ? [{ id: d.id, sha256: d.sha256, textMd5: createHash('md5').update(d.text).digest('hex'), minhash }] : [];
    });
    totals.read += page.length;
    totals.signed += await repo.saveSignatures(signed);
    onProgress?.(totals);
  }
}
