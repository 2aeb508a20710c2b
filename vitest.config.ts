import { defaultClientConditions, defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'
import { SummaryReporter } from './scripts/summaryReporter.js'

// '@cubby/source' points every workspace package at its src/, so tests never wait on a build.
export default defineConfig({
  resolve: { conditions: ['@cubby/source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['@cubby/source', ...defaultServerConditions] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Type tests (*.test-d.ts) run through tsc: a wrong type in one fails the run like a failed assertion.
    typecheck: { enabled: true, include: ['packages/*/src/**/*.test-d.ts', 'tests/**/*.test-d.ts'], tsconfig: './tsconfig.tests.json' },
    reporters: ['default', new SummaryReporter()],
  },
})
