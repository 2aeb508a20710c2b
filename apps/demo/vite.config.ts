import { defaultClientConditions, defineConfig } from 'vite'
import { serviceWorkerPlugin } from './serviceWorkerPlugin.js'

// No React plugin: esbuild's automatic JSX runtime is all this app needs (and keeps the build on Vite 7 alone).
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  // Build the workspace packages from source, like the tests do.
  resolve: { conditions: ['@cubby/source', ...defaultClientConditions] },
  // Top-level await in main.tsx (the identity comes before the first real render).
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022' },
  plugins: [serviceWorkerPlugin()],
})
