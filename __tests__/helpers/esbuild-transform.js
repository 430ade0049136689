// Jest transform: TypeScript to CommonJS with esbuild, types stripped unchecked (`tsc --noEmit` checks them, in npm test).
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const esbuild = require("esbuild");

const OWN = crypto
  .createHash("sha256")
  .update(fs.readFileSync(require.resolve("./esbuild-transform.js")))
  .update(esbuild.version)
  .digest("hex");

module.exports = {
  process(source, filename) {
    const { code, map } = esbuild.transformSync(source, {
      loader: "ts",
      format: "cjs",
      target: "node20",
      sourcefile: filename,
      sourcemap: "external",
      sourcesContent: false,
    });
    return { code, map };
  },
  getCacheKey(source, filename) {
    return crypto.createHash("sha256").update(OWN).update(filename).update("\0").update(source).digest("hex");
  },
};
