// Builds the dashboard into web/dist, served by the API at `/` (same origin, so no CORS and the
// same API key). Assets get content hashes, so the API can cache them for a year.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const api = process.env.DOCSIGHT_DEV_API ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets', chunkSizeWarningLimit: 1200 },
  // `npx vite web` during development: the API runs elsewhere, proxy its routes.
  server: {
    proxy: Object.fromEntries(['/v1', '/health', '/ready', '/openapi.json'].map((p) => [p, { target: api, changeOrigin: false }])),
  },
});
