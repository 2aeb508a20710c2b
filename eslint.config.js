// Lint gate for the workspace (run by `pnpm run lint`, which `test:all` runs first).
// TypeScript gets type-aware rules: library code through the project service (each package's tsconfig.json),
// tests through tsconfig.tests.json, which no tsconfig.json references. JavaScript (bench, scripts) is linted
// without type information.
import js from '@eslint/js'
import globals from 'globals'
import reactHooks from 'eslint-plugin-react-hooks'
import tseslint from 'typescript-eslint'

const TEST_FILES = [
  'tests/**/*.ts',
  'packages/*/src/**/*.test.ts',
  'packages/*/src/**/*.test-d.ts',
  'packages/*/src/**/*.contract.ts',
  'packages/*/src/**/*.fixture.ts',
  'packages/server/src/testing/**/*.ts',
  'apps/*/src/**/*.test.ts',
  'scripts/*.ts',
  'vitest.config.ts',
]

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', 'bench/results/**', 'packed/**',
    // Copied into a temp app outside the workspace by tests/consumer, where its imports resolve.
    'tests/consumer/app/**'] },
  {
    files: ['**/*.{js,mjs}'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    files: ['**/*.{ts,tsx}'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // `_`-prefixed names are deliberately unused: `await using _server = …` keeps a fixture alive for the test.
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // An async function that implements a Promise-returning interface without awaiting is deliberate here:
      // `async` turns a synchronous throw into a rejection, which is what callers of that interface handle.
      '@typescript-eslint/require-await': 'off',
      // Passing a caught error on (`catch (error) { return Promise.reject(error) }`) keeps whatever was thrown.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // Other packages are imported by name only (STYLE.md §1): the `@cubby/source` condition already sends
      // tsc and vitest to their src/, and a deep import would bypass the package's exports.
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@cubby/*/src', '@cubby/*/src/*'], message: 'Import workspace packages by name, not their src/.' }] },
      ],
    },
  },
  {
    files: ['packages/react/src/**/*.ts', 'apps/demo/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    files: TEST_FILES,
    languageOptions: {
      parserOptions: { projectService: false, project: './tsconfig.tests.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // vitest types its asymmetric matchers (`expect.any(String)`, `expect.objectContaining(…)`) as `any` so
      // they fit any position of an expected value; every assignment of one would be reported.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
)
