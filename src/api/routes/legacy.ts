/**
 * The original design's four GET routes, same paths and response fields, so its callers can
 * switch. Differences on purpose: "inside folder X" never matches "X2"; classification scans
 * first when needed (no need to call get_folder_files_metadata before); errors are JSON.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../../domain/errors.ts';
import type { ClassificationsService } from '../../services/classifications.service.ts';
import type { InsightsService } from '../../services/insights.service.ts';
import type { JobsService } from '../../services/jobs.service.ts';
import { splitAction } from '../schemas.ts';
import { cacheAnswer } from '../plugins/response-cache.ts';

const Wildcard = z.object({ '*': z.string().max(4200) });

export const legacyRoutes =
  (deps: { insights: InsightsService; jobs: JobsService; classifications: ClassificationsService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/folder-insights/*',
      {
        config: { responseCache: true },
        schema: {
          tags: ['original design'],
          summary: 'GET /folder-insights/{folder_path}/count_files | get_folder_files_metadata',
          description:
            'count_files → {folder_path, document_count}; get_folder_files_metadata?limit=10 → {folder_path, files} ' +
            '(each file also says where it was found: origin, parent {id, path}, and text_source and ocr for scanned documents). ' +
            'When the folder was never scanned, a scan starts and the answer is 202 {folder_path, job_id, status}.',
          params: Wildcard,
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(10) }),
        },
      },
      async (req, reply) => {
        const { folder, action } = splitAction(req.params['*']);
        if (action !== 'count_files' && action !== 'get_folder_files_metadata') {
          throw notFound(`No route for GET ${req.url.split('?')[0]}`);
        }
        // One statement for count_files, two (the folder's row, the page) for the listing.
        const answer =
          action === 'count_files'
            ? await deps.insights.countDocuments(folder, req.principal)
            : await deps.insights.newestDocuments(folder, req.query.limit, req.principal);
        if (!answer.scanned) {
          const { job } = await deps.jobs.startScan({ path: folder, requestId: req.id, access: req.principal });
          return reply.status(202).send({
            folder_path: answer.folder,
            job_id: job.id,
            status: action === 'count_files' ? 'Job started to count documents' : 'Jobs started to insert document metadata',
          });
        }
        // A scanned folder's answer comes from the database alone.
        cacheAnswer(req);
        if ('count' in answer) return { folder_path: answer.folder, document_count: answer.count };
        const page = answer;
        return {
          folder_path: page.folder,
          files: page.items.map((d) => ({
            id: d.id,
            path: d.path,
            filename: d.name,
            size_kb: Math.round(d.size / 1024),
            modified: d.mtime.toISOString(),
            tags: (d.tags ?? []).map((t) => t.label),
            title: d.title,
            author: d.author,
            origin: d.origin,
            parent: d.parent,
            text_source: d.textSource,
            ocr: d.ocr && {
              status: d.ocr.status,
              pages: d.ocr.pages,
              confidence: d.ocr.confidence,
              languages: d.ocr.languages,
              low_confidence: d.ocr.lowConfidence,
              error: d.ocr.error,
            },
          })),
        };
      },
    );

    app.get(
      '/document-classification/*',
      {
        // Starts work, although it is a GET (the original design's contract): editors only.
        config: { role: 'editor', audit: 'classification.start' },
        schema: {
          tags: ['original design'],
          summary: 'GET /document-classification/{folder_path}/tag_documents | summarize_documents',
          description: 'Starts classification of the folder (scanning it first when needed): 202 {folder_path, job_id, status}.',
          params: Wildcard,
        },
      },
      async (req, reply) => {
        const { folder, action } = splitAction(req.params['*']);
        if (action !== 'tag_documents' && action !== 'summarize_documents') {
          throw notFound(`No route for GET ${req.url.split('?')[0]}`);
        }
        const { job } = await deps.classifications.start({ path: folder, requestId: req.id, access: req.principal });
        return reply.status(202).send({
          folder_path: job.folder ?? folder,
          job_id: job.id,
          status: action === 'tag_documents' ? 'Job started to tag documents' : 'Job started to summarize documents',
        });
      },
    );
  };
