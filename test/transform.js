/**
 * jest's transform for the TypeScript sources (every jest project of this repository, and the rehearsal workspace's):
 * transpile only, with sucrase. `npm test` type-checks the whole program once first (test/typecheck.js), so a
 * transform need not; sucrase strips the types and turns imports into CommonJS about five times faster than ts-jest's
 * transpileModule, which was most of a fresh clone's first `npm test` beyond later ones (README "Tests").
 * The code is otherwise left as written (ES2022, as tsconfig's target), with a source map for stack traces.
 */
const { createHash } = require('crypto');
const { getVersion, transform } = require('sucrase');

const OPTIONS = { transforms: ['typescript', 'imports'], disableESTransforms: true };

module.exports = {
  process(source, filename) {
    const out = transform(source, { ...OPTIONS, filePath: filename, sourceMapOptions: { compiledFilename: filename } });
    return { code: out.code, map: out.sourceMap };
  },
  getCacheKey(source, filename) {
    return createHash('sha256').update(`${getVersion()}\0${JSON.stringify(OPTIONS)}\0${filename}\0`).update(source).digest('hex');
  },
};
