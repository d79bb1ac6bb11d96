/** @type {import('jest').Config} */
// What the library's projects share. Transpile only (tsconfig's isolatedModules; no type check per file: `npm test`
// runs `tsc --noEmit` once first), with sucrase (test/transform.js): pure JavaScript, where @swc/jest's per-platform
// binaries are not all on the registry this project installs from (`npm ci` rejects its lock).
const { nativeModuleMapper } = require('./test/native/modules');

const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': '<rootDir>/test/transform.js' },
  setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
  // Pure, stateless dependencies loaded by Node outside jest's per-file VM context (see the module's comment).
  moduleNameMapper: { '^fflate$': '<rootDir>/test/native/fflate.js', ...nativeModuleMapper() },
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
};
const SYSTEM = '\\.system\\.test\\.ts$';

module.exports = {
  // `npm test`: the library's unit and snapshot tests and the rehearsal workspace's (its own config), nothing that
  // needs a Debian package, root or namespaces. `npm run test:system`: the `*.system.test.ts` of both, which run the
  // real programs (cloud-init, PostgreSQL, pglogical, Patroni, etcd, openssl, test hosts); it stops at once, one line
  // per missing part, on a machine that lacks them (test/system/requirements.js).
  projects: [
    { ...shared, displayName: 'library', roots: ['<rootDir>/test'], testMatch: ['**/*.test.ts'], testPathIgnorePatterns: ['/node_modules/', SYSTEM] },
    '<rootDir>/tools/rehearsal',
    {
      ...shared,
      displayName: 'system',
      roots: ['<rootDir>/test', '<rootDir>/tools/rehearsal/test'],
      testMatch: ['**/*.system.test.ts'],
      globalSetup: '<rootDir>/test/system/global-setup.js',
    },
  ],
};
