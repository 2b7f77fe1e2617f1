import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { bindString, isLocalSource, parseVolume } from "../../provider/serve/volumes";

const dir = mkdtempSync(join(tmpdir(), "pt-vol-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("host paths are made absolute, default mode is ro", () => {
  const r = parseVolume(".:/data", dir, true);
  assert.ok("ok" in r);
  assert.equal(r.ok.source, dir);
  assert.equal(r.ok.mode, "ro");
  assert.equal(bindString(r.ok), `${dir}:/data:ro`);
  const rw = parseVolume(`${dir}:/out:rw`, "/", true);
  assert.ok("ok" in rw && rw.ok.mode === "rw");
});

test("a name without / or . is a Docker volume", () => {
  assert.equal(isLocalSource("cache"), false);
  assert.equal(isLocalSource("./cache"), true);
  const r = parseVolume("cache:/cache:rw", dir, true);
  assert.ok("ok" in r && r.ok.bind === false && r.ok.source === "cache");
});

test("bad syntax, bad mode, relative target and missing source are errors with a fix", () => {
  const cases: [string, RegExp][] = [
    ["/a", /SOURCE:TARGET/],
    ["/a:/b:ro:x", /SOURCE:TARGET/],
    [`${dir}:/b:rx`, /mode "rx".*"ro" nor "rw"/],
    [`${dir}:b`, /not an absolute container path/],
    ["./missing-dir:/b", /does not exist/],
  ];
  for (const [spec, re] of cases) {
    const r = parseVolume(spec, dir, true);
    assert.ok("error" in r, spec);
    assert.match(r.error, re, spec);
  }
  // remote engines: existence is not checked here
  assert.ok("ok" in parseVolume("./missing-dir:/b", dir, false));
});
