import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// `vite dev` proxies the API of a server running on the default port, so the dashboard can be developed live.
const api = process.env.AI_MONITOR_DEV_API ?? 'http://127.0.0.1:8765';

export default defineConfig({
  plugins: [sveltekit()],
  server: {
    proxy: {
      '/graphql': { target: api, ws: true, changeOrigin: true },
      '/api': { target: api, changeOrigin: true },
      '/health': { target: api, changeOrigin: true },
    },
  },
  build: {
    // uPlot is the largest dependency; keep an eye on growth rather than warn on it.
    chunkSizeWarningLimit: 200,
  },
});
