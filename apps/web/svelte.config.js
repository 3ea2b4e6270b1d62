import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** A single-page app: the API server serves `build/` and falls back to index.html for every route. */
const config = {
  preprocess: vitePreprocess(),
  compilerOptions: {
    // Runes everywhere in this app; libraries keep whatever mode they were written in.
    runes: ({ filename }) => (filename.split(/[/\\]/).includes('node_modules') ? undefined : true),
  },
  kit: {
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', precompress: false, strict: true }),
    // Deep links such as /interactions/<id> are answered with the fallback page: asset URLs must be absolute.
    paths: { relative: false },
  },
};

export default config;
