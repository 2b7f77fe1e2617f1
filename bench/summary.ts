/**
 * Prints one table of every benchmark's ratios and goals from bench/results/*.json, and writes
 * bench/results/summary.json.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const dir = path.join(__dirname, "results");
/** `floor`: the best value any implementation could reach here, when the bench measured it. */
const rows: { bench: string; metric: string; value: number; goal?: number; met?: boolean; floor?: number }[] = [];

/**
 * Walks a result object for `…Ratio`/`ratio…` numbers, their goals (`goals.<key>`) and, when the
 * bench measured one, their floors (`floors.<key>`: the best value reachable on this machine).
 */
function collect(
  bench: string,
  obj: Record<string, unknown>,
  goals: Record<string, number>,
  floors: Record<string, number>,
  prefix = "",
): void {
  for (const [k, v] of Object.entries(obj)) {
    if (k === "goals" || k === "floors") continue;
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === "number" && /(^ratio|Ratio)$/.test(k)) {
      const goal = goals[k] ?? goals[key];
      const floor = floors[k] ?? floors[key];
      rows.push({ bench, metric: key, value: v, goal, met: goal === undefined ? undefined : v <= goal, floor });
    } else if (Array.isArray(v)) {
      for (const item of v as Record<string, unknown>[]) {
        if (!item || typeof item !== "object") continue;
        const label = String(item.name ?? item.operation ?? "");
        if (typeof item.ratio === "number") {
          const goal = typeof item.goal === "number" ? item.goal : undefined;
          rows.push({
            bench,
            metric: label,
            value: item.ratio,
            goal,
            met: goal === undefined ? undefined : item.ratio <= goal,
            floor: typeof item.floor_ratio === "number" ? item.floor_ratio : undefined,
          });
        }
        if (typeof item.ours_over_floor === "number" && typeof item.goal_ours_over_floor === "number") {
          const goal = item.goal_ours_over_floor;
          rows.push({
            bench,
            metric: `${label} ours/floor`,
            value: item.ours_over_floor,
            goal,
            met: item.ours_over_floor <= goal,
          });
        }
        if (
          typeof item.ratio !== "number" &&
          typeof item.localMedianS === "number" &&
          typeof item.serverMedianS === "number"
        ) {
          rows.push({ bench, metric: `${label} local/server`, value: item.localMedianS / item.serverMedianS });
        }
      }
    } else if (v && typeof v === "object") {
      collect(bench, v as Record<string, unknown>, goals, floors, key);
    }
  }
}

if (existsSync(dir)) {
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith(".json") && f !== "summary.json")
    .sort()) {
    const data = JSON.parse(readFileSync(path.join(dir, f), "utf8")) as Record<string, unknown>;
    collect(
      f.replace(/\.json$/, ""),
      data,
      (data.goals as Record<string, number>) ?? {},
      (data.floors as Record<string, number>) ?? {},
    );
  }
}
console.log("\nbenchmark  metric                                   value    goal   met");
for (const r of rows) {
  const unreachable = r.floor !== undefined && r.goal !== undefined && r.floor > r.goal;
  const met =
    r.met === undefined ? "" : r.met ? "met" : unreachable ? `unreachable (floor ${r.floor?.toFixed(2)})` : "missed";
  console.log(
    `${r.bench.padEnd(10)} ${r.metric.padEnd(40)} ${r.value.toFixed(3).padStart(7)} ${r.goal === undefined ? "".padStart(7) : `≤${r.goal}`.padStart(7)}   ${met}`,
  );
}
writeFileSync(path.join(dir, "summary.json"), `${JSON.stringify(rows, null, 2)}\n`);
