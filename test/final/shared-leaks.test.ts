/**
 * Leak check of the shared engine and task folders, run by scripts/test.sh as the last step of the
 * faults tier and of `npm test`, after every tier file (and
 * usable after `npm run up` + destroy of the root stack or an example): every container, image,
 * network and volume labelled `pulumi-tesseract.managed` must be referenced by some stack's state
 * in the file backend. Anything else was left behind by a destroy or a failed create.
 *
 * Other test tiers may run in parallel on a development machine, so objects younger than
 * PT_LEAKS_GRACE_SECONDS (default 900) are skipped and orphans only fail the test when
 * PT_LEAKS_STRICT=1 (the tier run alone, e.g. in CI: `PT_LEAKS_STRICT=1 npm run test:faults`).
 * Objects listed in PT_LEAKS_BASELINE (a JSON array, not a .json file: the summary reads those; scripts/test.sh writes it before the first test:
 * test/helpers/leaks-baseline.ts) were there before the run and are not judged; they are counted.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { DockerClient } from "../../provider/docker";
import { Report } from "../helpers/faults/report";
import { describeLeaks, orphans } from "../helpers/leaks";
import { FIXTURE_TAG } from "../helpers/service-fixture";

const report = new Report("shared-leaks");

test("no orphaned objects of this package on the shared engine", async (t) => {
  const client = new DockerClient();
  try {
    // The service tests share one fixture image across tiers (built outside any stack); the
    // suite is over, so it goes first, and what remains is judged.
    await client.removeImage(FIXTURE_TAG, { force: true }).catch(() => false);
    const grace = Number(process.env.PT_LEAKS_GRACE_SECONDS ?? 900);
    const baselineFile = process.env.PT_LEAKS_BASELINE;
    const baseline = new Set<string>(
      baselineFile && existsSync(baselineFile) ? JSON.parse(readFileSync(baselineFile, "utf8")) : [],
    );
    const found = await orphans(client, grace, undefined, baseline);
    report.metric("shared engine: objects there before the run (not judged)", found.preexisting);
    report.metric("shared engine: orphaned objects", found.total);
    report.metric("shared engine: objects younger than the grace period (not judged)", found.young);
    if (found.total) t.diagnostic(`orphans:\n${describeLeaks(found)}`);
    if (process.env.PT_LEAKS_STRICT === "1") {
      report.add("leaksFound", found.total);
      assert.equal(found.total, 0, describeLeaks(found));
    } else if (found.total) {
      report.note(
        `shared engine has ${found.total} orphan(s) (not counted; set PT_LEAKS_STRICT=1): ${describeLeaks(found)}`,
      );
    }
  } finally {
    await client.close();
  }
});
