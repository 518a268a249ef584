/** Real PostgreSQL and Redis; see test/global-setup.ts for per-run prefixes. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>'],
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/web/dist/'],
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // jose 6, MikroORM 7 and kysely are ESM-only: let swc turn them into CommonJS for jest's module
  // system (Node 26 requires ESM natively, but jest's own require does so only under
  // --experimental-vm-modules).
  transformIgnorePatterns: ['/node_modules/(?!(jose|@mikro-orm|kysely)/)'],
  moduleNameMapper: {
    '^@popug/lib/(.*)$': '<rootDir>/lib/$1',
    '^@popug/testing/(.*)$': '<rootDir>/testing/$1',
  },
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};
