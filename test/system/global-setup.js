/** `npm run test:system` stops before any test when the machine lacks what the system tests need (one line each). */
const { missingRequirements } = require('./requirements');

module.exports = async () => {
  const missing = missingRequirements();
  if (missing.length === 0) return;
  process.stderr.write(`\ntest:system needs what this machine lacks (.ci/run installs all of it):\n${missing.map((m) => `  - ${m}`).join('\n')}\n`);
  process.exit(1);
};
