/* global fetch, AbortSignal -- Node 20 globals */
// Container health check (Dockerfile HEALTHCHECK). The API answers /health on PORT; a worker has no
// API, so when PORT does not answer and METRICS_PORT is set, the metrics listener's /health counts.
// Reads process.env directly: it runs outside docsight, with the container's environment.
const ports = [process.env.PORT || '8000', process.env.METRICS_PORT].filter(Boolean);
for (const port of ports) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(3000) });
    if (res.ok) process.exit(0);
  } catch {
    // not listening on this port: try the next
  }
}
process.exit(1);
