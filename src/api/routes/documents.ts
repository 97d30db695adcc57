import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { InsightsService } from '../../services/insights.service.ts';
import { DocumentDetailSchema, documentDetail, ErrorSchema } from '../schemas.ts';

export const documentRoutes =
  (deps: { insights: InsightsService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/documents/:id',
      {
        schema: {
          tags: ['documents'],
          summary:
            'One document: file facts, normalised and raw (Tika-keyed) metadata, text preview, latest classification and history, ' +
            'where it was found (parent), what OCR made of it, and the documents inside it (children)',
          params: z.object({ id: z.uuid() }),
          response: { 200: DocumentDetailSchema, 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req) => {
        const { doc, history, children, sameContent } = await deps.insights.getDocument(req.params.id, req.principal);
        return documentDetail(doc, history, children, sameContent);
      },
    );
  };
