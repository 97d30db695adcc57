/**
 * The original design's two reads (count_files, get_folder_files_metadata) through the insights
 * service, against fake repositories that record every call: the same answers as knownFolder +
 * count and knownFolder + listing gave (recorded and walked, recorded but not walked to the end,
 * not recorded but on disk, not recorded and spelled differently on disk), from one statement for
 * a count and two for a page (issue 19: fewer round trips per request).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OPEN_ACCESS, type Principal } from '../../src/domain/access.ts';
import { AppError } from '../../src/domain/errors.ts';
import { createInsightsService, type InsightsServiceDeps } from '../../src/services/insights.service.ts';
import type { DocumentListItem, DocumentListQuery } from '../../src/store/insights.repository.ts';

interface World {
  /** Folder rows: path → last scanned (null: seen, not walked to the end). */
  folders: Record<string, Date | null>;
  /** Folders on disk: what the input resolves to. */
  onDisk: Record<string, string>;
  counts: Record<string, number>;
}

function setUp(world: World) {
  const calls: string[] = [];
  const item = (folder: string, i: number) => ({ id: `id-${i}`, path: `${folder}/doc ${i}.docx` }) as unknown as DocumentListItem;
  const deps = {
    staleAfterYears: 7,
    folders: {
      async find(path: string) {
        calls.push(`folders.find ${path}`);
        return path in world.folders ? { path, lastScannedAt: world.folders[path] ?? null } : undefined;
      },
    },
    insights: {
      async countDocuments(folder: string) {
        calls.push(`countDocuments ${folder}`);
        return world.counts[folder] ?? 0;
      },
      async countWithFolder(folder: string) {
        calls.push(`countWithFolder ${folder}`);
        return { count: world.counts[folder] ?? 0, recorded: folder in world.folders ? { lastScannedAt: world.folders[folder] ?? null } : null };
      },
      async listDocuments(q: DocumentListQuery) {
        calls.push(`listDocuments ${q.folder} ${q.sort} ${q.order} ${q.limit}`);
        return { items: Array.from({ length: Math.min(q.limit, world.counts[q.folder] ?? 0) }, (_, i) => item(q.folder, i)) };
      },
    },
    sources: {
      async resolveFolder(input: string) {
        calls.push(`resolveFolder ${input}`);
        const rel = world.onDisk[input];
        if (rel === undefined) throw new AppError('not_found', `Folder not found: ${input}`);
        return { rel };
      },
    },
  } as unknown as InsightsServiceDeps;
  return { service: createInsightsService(deps), calls };
}

const scanned = new Date('2026-12-01T00:00:00Z');

describe('the original design\'s reads through the insights service', () => {
  it('count_files: a walked folder is counted in one statement', async () => {
    const { service, calls } = setUp({ folders: { 'Company A': scanned }, onDisk: {}, counts: { 'Company A': 12 } });
    assert.deepEqual(await service.countDocuments('Company A', OPEN_ACCESS), { folder: 'Company A', count: 12, scanned: true });
    assert.deepEqual(calls, ['countWithFolder Company A']);
  });

  it('count_files: a folder seen but not walked to the end is not scanned, with what is counted so far', async () => {
    const { service } = setUp({ folders: { 'Company A': null }, onDisk: {}, counts: { 'Company A': 3 } });
    assert.deepEqual(await service.countDocuments('Company A/', OPEN_ACCESS), { folder: 'Company A', count: 3, scanned: false });
  });

  it('count_files: a folder only on disk is not scanned; when the disk spells it otherwise, that folder is counted', async () => {
    const same = setUp({ folders: {}, onDisk: { 'Company B': 'Company B' }, counts: {} });
    assert.deepEqual(await same.service.countDocuments('Company B', OPEN_ACCESS), { folder: 'Company B', count: 0, scanned: false });
    assert.deepEqual(same.calls, ['countWithFolder Company B', 'resolveFolder Company B']);
    const other = setUp({ folders: {}, onDisk: { 'company b': 'Company B' }, counts: { 'Company B': 4 } });
    assert.deepEqual(await other.service.countDocuments('company b', OPEN_ACCESS), { folder: 'Company B', count: 4, scanned: false });
    assert.deepEqual(other.calls, ['countWithFolder company b', 'resolveFolder company b', 'countDocuments Company B']);
  });

  it('count_files and get_folder_files_metadata: unknown folders are 404, escaping paths 400, out-of-scope 403 or 404, before any read', async () => {
    const { service, calls } = setUp({ folders: {}, onDisk: {}, counts: {} });
    await assert.rejects(service.countDocuments('Nowhere', OPEN_ACCESS), (e: AppError) => e.code === 'not_found');
    await assert.rejects(service.newestDocuments('Nowhere', 10, OPEN_ACCESS), (e: AppError) => e.code === 'not_found');
    calls.length = 0;
    await assert.rejects(service.countDocuments('../etc', OPEN_ACCESS), AppError);
    const scoped: Principal = { keyId: 'k', role: 'viewer', scopes: ['Company A'] };
    await assert.rejects(service.countDocuments('Company B', scoped), AppError);
    await assert.rejects(service.newestDocuments('Company B', 10, scoped), AppError);
    assert.deepEqual(calls, []);
  });

  it('get_folder_files_metadata: the newest documents of a walked folder from one folder read and one listing, no count', async () => {
    const { service, calls } = setUp({ folders: { 'Company A': scanned }, onDisk: {}, counts: { 'Company A': 12 } });
    const page = await service.newestDocuments('Company A', 10, OPEN_ACCESS);
    assert.equal(page.folder, 'Company A');
    assert.equal(page.scanned, true);
    assert.deepEqual(page.items.map((d) => d.id), Array.from({ length: 10 }, (_, i) => `id-${i}`));
    assert.deepEqual(calls, ['folders.find Company A', 'listDocuments Company A mtime desc 10']);
  });

  it('get_folder_files_metadata: a folder not walked lists nothing and says so (the route starts a scan)', async () => {
    const worlds: World[] = [
      { folders: { 'Company A': null }, onDisk: {}, counts: { 'Company A': 3 } },
      { folders: {}, onDisk: { 'company a': 'Company A' }, counts: {} },
    ];
    for (const world of worlds) {
      const { service, calls } = setUp(world);
      const page = await service.newestDocuments(Object.keys(world.onDisk)[0] ?? 'Company A', 10, OPEN_ACCESS);
      assert.deepEqual(page, { folder: 'Company A', scanned: false, items: [] });
      assert.ok(!calls.some((c) => c.startsWith('listDocuments')));
    }
  });
});
