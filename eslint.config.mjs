import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * The only file that may reach into another package's internals (docs/dependency-patches.md).
 * It does not exist: no patch is left.
 */
const DEPENDENCY_PATCHES = ['gateway/dependency-patches.ts'];
const PRIVATE_MESSAGE = "another package's internals (docs/dependency-patches.md): use its public API";
const DIST_IMPORTS = { group: ['*/dist/*', '@*/*/dist/*', '*/dist', '@*/*/dist'], message: `a file under dist/ is ${PRIVATE_MESSAGE}` };
const PRIVATE_INTERNALS = [
  { selector: 'CallExpression > MemberExpression.callee > Identifier.property[name=/^_/]', message: `a member whose name starts with _ is ${PRIVATE_MESSAGE}` },
  { selector: "CallExpression[callee.name='require'] > Literal.arguments[value=/(^|\\/)dist(\\/|$)/]", message: `a file under dist/ is ${PRIVATE_MESSAGE}` },
  { selector: "CallExpression[callee.object.name='require'][callee.property.name='resolve'] > Literal.arguments[value=/(^|\\/)dist(\\/|$)/]", message: `a file under dist/ is ${PRIVATE_MESSAGE}` },
  { selector: 'ImportExpression > Literal.source[value=/(^|\\/)dist(\\/|$)/]', message: `a file under dist/ is ${PRIVATE_MESSAGE}` },
];

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
    // Other packages only through their public entry points (issue 25, docs/dependency-patches.md):
    // a file under a package's dist/ and a member whose name starts with `_` are its private
    // internals, which change without notice between versions. Type-only imports included.
    files: ['**/*.ts', '**/*.tsx', '**/*.js', '**/*.mjs'],
    ignores: DEPENDENCY_PATCHES,
    rules: {
      'no-restricted-imports': ['error', { patterns: [DIST_IMPORTS] }],
      'no-restricted-syntax': ['error', ...PRIVATE_INTERNALS],
    },
  },
  {
    // Test helpers are not part of what runs in production: only tests, the bench and the
    // test prerequisites may import them. (This block's no-restricted-imports replaces the one
    // above for these files, so it repeats the dist/ pattern.)
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['**/test/**', 'testing/**', 'bench/**', 'scripts/test-prerequisites.ts', ...DEPENDENCY_PATCHES],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@popug/testing', '@popug/testing/*', '**/testing/*'], message: 'Test helpers (testing/) are for tests only.' }, DIST_IMPORTS] },
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
