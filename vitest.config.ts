import { defineConfig } from 'vitest/config';

export default defineConfig({
  // React 19's automatic JSX runtime for test/renderer/*.test.tsx and the components they render
  // (no root tsconfig.json tells esbuild so; tsconfig.web.json says react-jsx for tsc).
  esbuild: { jsx: 'automatic' },
  test: {
    include: [
      'test/unit/**/*.test.ts',
      'test/integration/**/*.test.ts',
      'test/reliability/**/*.test.ts',
      'test/renderer/**/*.test.tsx',
    ],
    // Integration tests spawn the Python engine and train tiny models: give them room.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Two cores: run files one at a time so engine-spawning tests do not fight for CPU.
    fileParallelism: false,
  },
});
