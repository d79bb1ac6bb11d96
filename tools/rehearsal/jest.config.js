const { nativeModuleMapper } = require('../../test/native/modules');

/** @type {import('jest').Config} */
module.exports = {
  displayName: 'rehearsal',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Its system tests (test hosts, the systemd stand-in) run in the root config's `system` project.
  testPathIgnorePatterns: ['/node_modules/', '\\.system\\.test\\.ts$'],
  // Transpile only, as the root's config does: `npm test` type-checks once first (tsconfig.json covers src and test).
  transform: { '^.+\\.ts$': '<rootDir>/../../test/transform.js' },
  // cdktf, the providers and fflate loaded once per worker by Node, as the root's config does (test/native/).
  moduleNameMapper: { '^fflate$': '<rootDir>/../../test/native/fflate.js', ...nativeModuleMapper() },
};
