// Vite config for the console. SvelteKit 3 takes its options here, in `sveltekit({...})`:
// a svelte.config.js is rejected at startup.
import adapter from '@sveltejs/adapter-static';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [
    sveltekit({
      // A static SPA: the hub serves build/ at `/` and answers unknown paths with index.html.
      adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html' }),
    }),
  ],
});
