/**
 * `npm run build` (electron-vite build) writes:
 *   out/main/index.js      the Electron main process (src-main/electron/main.ts, ESM)
 *   out/preload/index.cjs  the preload (src-preload/index.ts), CommonJS because sandboxed
 *                          preloads cannot be ES modules
 *   out/renderer/          the React app (src-renderer/index.html). The same folder is what the
 *                          loopback bridge serves to a plain browser (`character serve`, E2E).
 * The Electron binary is not needed to build.
 */
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      rollupOptions: { input: { index: resolve(root, 'src-main/electron/main.ts') } },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      rollupOptions: {
        input: { index: resolve(root, 'src-preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    // Absolute asset URLs: the page is also served for client-side routes like /runs/<id>.
    base: '/',
    plugins: [react()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      emptyOutDir: true,
      rollupOptions: { input: resolve(root, 'src-renderer/index.html') },
    },
  },
});
