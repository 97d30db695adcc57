/**
 * HTTP metrics and `GET /metrics`. The route label is the route's URL pattern (`/v1/jobs/:id`), so
 * a million folder paths stay one series; requests that matched no route share `unmatched`.
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observability/metrics.ts';

export function registerMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (req, reply) => {
    metrics.observeHttp(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });

  // Admin only when keys are required: the numbers cover every folder, whatever a key's scopes.
  // Prometheus inside a cluster scrapes METRICS_PORT instead (no key, never exposed publicly).
  app.get('/metrics', { schema: { hide: true }, config: { role: 'admin' } }, async (_req, reply) => {
    void reply.type(metrics.contentType);
    return metrics.render();
  });
}
