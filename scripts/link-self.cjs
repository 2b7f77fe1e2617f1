// `npm install` / `npm ci` in a clone (the `prepare` script, after the build): the provider shims
// `require("pulumi-tesseract/lib/resources/<name>-impl.js")` by package name at call time, and the
// stacks of this repository (the root, examples/*) import "pulumi-tesseract"; in a clone that
// name must resolve to the clone itself. A relative link, so the clone can move.
const fs = require("node:fs");
const path = require("node:path");

const link = path.join(__dirname, "..", "node_modules", "pulumi-tesseract");
fs.mkdirSync(path.dirname(link), { recursive: true });
try {
  if (fs.readlinkSync(link) === "..") process.exit(0);
} catch {
  // absent, or not a link
}
fs.rmSync(link, { recursive: true, force: true });
fs.symlinkSync("..", link);
