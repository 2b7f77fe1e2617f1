// Benchmark: TaskGroup collection of the same wheel (test/helpers/fixtures/fractal-tasks) with the local
// backend vs a real fractal-server (scripts/fractal-server.sh), plus deactivate/reactivate/delete.
// Run: source scripts/env.sh && npx tsx bench/fractal.ts   (BENCH_ROUNDS, default 3)
// Writes a table to stdout and bench/results/fractal.json.
import { FractalClient } from "../provider/fractal/client";
import * as impl from "../provider/resources/task-group-impl";
import {
  buildFixtureWheel,
  purgeServerGroups,
  removeDir,
  startFractalServer,
  tempTasksDir,
} from "../test/helpers/fractal-server";
import { writeResult } from "./results";

process.env.PULUMI_TESSERACT_QUIET = "1";
const ROUNDS = Math.min(Number(process.env.BENCH_ROUNDS ?? 3), 10);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Timings {
  collect: number[];
  deactivate: number[];
  reactivate: number[];
  delete: number[];
}

async function round(news: Record<string, unknown>, t: Timings): Promise<void> {
  const checked = (await impl.check({}, news)).inputs as impl.CheckedInputs;
  let t0 = performance.now();
  const { id, outs } = await impl.create(checked);
  t.collect.push(performance.now() - t0);
  const o = outs as impl.TaskGroupOutputs;
  t0 = performance.now();
  const d = await impl.update(id, o, { ...checked, active: false });
  t.deactivate.push(performance.now() - t0);
  t0 = performance.now();
  const r = await impl.update(id, d.outs as impl.TaskGroupOutputs, { ...checked, active: true });
  t.reactivate.push(performance.now() - t0);
  t0 = performance.now();
  await impl.remove(id, r.outs as impl.TaskGroupOutputs);
  t.delete.push(performance.now() - t0);
}

async function main(): Promise<void> {
  const info = startFractalServer();
  const serverVersion = (await new FractalClient(info).alive()).version;
  const wheel = buildFixtureWheel();
  await purgeServerGroups(info, ["pt-fractal-tasks"]);
  const tasksDir = tempTasksDir("pt-fractal-bench-");
  const results: Record<string, Timings> = {
    local: { collect: [], deactivate: [], reactivate: [], delete: [] },
    server: { collect: [], deactivate: [], reactivate: [], delete: [] },
  };
  try {
    for (let i = 0; i < ROUNDS; i++) {
      await round({ pip: { wheelFile: wheel }, backend: "local", tasksDir }, results.local);
      await round(
        { pip: { wheelFile: wheel }, server: { url: info.url, email: info.email, password: info.password } },
        results.server,
      );
      process.stderr.write(`round ${i + 1}/${ROUNDS} done\n`);
    }
  } finally {
    removeDir(tasksDir);
    await purgeServerGroups(info, ["pt-fractal-tasks"]).catch(() => undefined);
  }
  const rows = (["collect", "deactivate", "reactivate", "delete"] as const).map((op) => ({
    operation: op,
    localMedianS: +(median(results.local[op]) / 1000).toFixed(2),
    serverMedianS: +(median(results.server[op]) / 1000).toFixed(2),
    localAllS: results.local[op].map((x) => +(x / 1000).toFixed(2)),
    serverAllS: results.server[op].map((x) => +(x / 1000).toFixed(2)),
  }));
  console.log(`TaskGroup, wheel pt_fractal_tasks-0.1.0, ${ROUNDS} rounds (median seconds)`);
  const server = `fractal-server ${serverVersion}`;
  console.log(`operation   | local backend | ${server.padEnd(21)}`);
  console.log("------------|---------------|----------------------");
  for (const r of rows)
    console.log(
      `${r.operation.padEnd(11)} | ${String(r.localMedianS).padStart(13)} | ${String(r.serverMedianS).padStart(21)}`,
    );
  writeResult("fractal.json", {
    benchmark: "fractal",
    rounds: ROUNDS,
    wheel: "pt_fractal_tasks-0.1.0-py3-none-any.whl",
    server: info.url,
    serverVersion,
    date: new Date().toISOString(),
    rows,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
