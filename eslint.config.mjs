import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// ESLint's own defineConfig: typescript-eslint deprecates its tseslint.config() helper for it.
export default defineConfig(
  { ignores: ['node_modules/', 'var/', 'dist/', 'coverage/', '**/generated/', 'web/dist/', 'test-artifacts/', 'gateway/landing/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'error',
    },
  },
  {
    // Test helpers are not part of what runs in production: only tests, the bench and the
    // test prerequisites may import them.
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['**/test/**', 'testing/**', 'bench/**', 'scripts/test-prerequisites.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@popug/testing', '@popug/testing/*', '**/testing/*'], message: 'Test helpers (testing/) are for tests only.' }] },
      ],
    },
  },
  {
    // The replicator is read in one sitting: small parts, small functions (migrations aside).
    files: ['jobs/replicator/**/*.ts'],
    ignores: ['jobs/replicator/test/**', 'jobs/replicator/master/migrations/**'],
    rules: { 'max-lines-per-function': ['error', { max: 40, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly' } },
  },
  {
    files: ['**/test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
