/**
 * fflate as Node itself loads it, outside jest's module registry (jest.config.js maps `fflate` here). fflate is pure
 * and stateless (typed arrays in, typed arrays out; jest's Buffer is Node's own), so one copy per worker serves every
 * test file. In jest's per-file VM context each global lookup in its level-9 DEFLATE loop is slow (about twice plain
 * Node's time), and the module was evaluated again for each test file. jest replaces `module.createRequire` with its
 * own; the class it extends is Node's.
 */
const path = require('path');
const jestModule = require('module');
const nodeModule = Object.getPrototypeOf(jestModule);
if (typeof nodeModule.createRequire !== 'function' || nodeModule.createRequire === jestModule.createRequire) {
  throw new Error('test/native/fflate.js: Node\'s Module.createRequire not found behind jest\'s');
}
module.exports = nodeModule.createRequire(path.join(__dirname, '..', '..', 'package.json'))('fflate');
