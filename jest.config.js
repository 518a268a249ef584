/** Real PostgreSQL and Redis; see test/global-setup.ts for per-run prefixes. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>'],
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/web/dist/'],
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // ESM-only packages (jose 6, cookie 2, MikroORM 7 and kysely; kubernetes-models 5 and what it
  // imports, for test/k8s.test.ts): let swc turn them into CommonJS for jest's module system (Node 26
  // requires ESM natively, but jest's own require does so only under --experimental-vm-modules).
  transformIgnorePatterns: ['/node_modules/(?!(jose|cookie|kubernetes-models|@kubernetes-models|is-cidr|cidr-regex|@mikro-orm|kysely)/)'],
  moduleNameMapper: {
    '^@popug/lib/(.*)$': '<rootDir>/lib/$1',
    '^@popug/testing/(.*)$': '<rootDir>/testing/$1',
    // kubernetes-models 5 (test/k8s.test.ts) exports its files under the `import` condition only,
    // which jest's CommonJS resolution does not match: name the files themselves.
    '^kubernetes-models/(.*)$': '<rootDir>/node_modules/kubernetes-models/$1.js',
    '^@kubernetes-models/(base|validate)$': '<rootDir>/node_modules/@kubernetes-models/$1/dist/index.js',
    '^@kubernetes-models/apimachinery/(.*)$': '<rootDir>/node_modules/@kubernetes-models/apimachinery/$1.js',
  },
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};
