/** @type {import('jest').Config} */
// Transpile only (tsconfig's isolatedModules; no type check per file: `npm test` runs `tsc --noEmit` once first).
// ts-jest rather than @swc/jest: swc's per-platform binaries are not all on the registry this project installs from,
// so `npm ci` rejects its lock.
const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] };
const SYSTEM = '\\.system\\.test\\.ts$';

module.exports = {
  // `npm test`: the library's unit and snapshot tests and the rehearsal workspace's (its own config), nothing that
  // needs a Debian package, root or namespaces. `npm run test:system`: the `*.system.test.ts` of both, which run the
  // real programs (cloud-init, PostgreSQL, pglogical, Patroni, etcd, openssl, test hosts); it stops at once, one line
  // per missing part, on a machine that lacks them (test/system/requirements.js).
  projects: [
    {
      displayName: 'library',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', SYSTEM],
      transform,
      setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
      snapshotFormat: { escapeString: false, printBasicPrototype: false },
    },
    '<rootDir>/tools/rehearsal',
    {
      displayName: 'system',
      testEnvironment: 'node',
      roots: ['<rootDir>/test', '<rootDir>/tools/rehearsal/test'],
      testMatch: ['**/*.system.test.ts'],
      transform,
      globalSetup: '<rootDir>/test/system/global-setup.js',
      setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
      snapshotFormat: { escapeString: false, printBasicPrototype: false },
    },
  ],
};
