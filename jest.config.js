/** @type {import('jest').Config} */
module.exports = {
  // The library's tests, and the rehearsal workspace's with its own config (`npm test` runs both).
  projects: [
    {
      displayName: 'library',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      // Transpile only (tsconfig's isolatedModules; no type check per file: `npm test` runs `tsc --noEmit` once first).
      // ts-jest rather than @swc/jest:
      // swc's per-platform binaries are not all on the registry this project installs from, so `npm ci` rejects its lock.
      transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
      setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
      snapshotFormat: { escapeString: false, printBasicPrototype: false },
    },
    '<rootDir>/tools/rehearsal',
  ],
};
