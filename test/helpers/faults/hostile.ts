/**
 * The hostile tier's rows (`FaultRow.fault` = `hostile/<class>/<case>`, see report.ts) grouped by
 * class for the summary: tried / refused / explained / leaked per class, and what fails the run.
 * A row's `detail` says what happened: `refused` (the input was refused), `explained` (refused,
 * naming the field and the fix), `handled` (a hostile peer's answer was dealt with safely), or
 * `LEAKED …` (a secret or a resource escaped). A row saying none of these was accepted.
 */
import type { FaultRow } from "./report";

/** Counts of one hostile class. */
export interface HostileClass {
  /** The `<class>` of `hostile/<class>/<case>`. */
  name: string;
  tried: number;
  /** Refused, explained or handled. */
  refused: number;
  explained: number;
  leaked: number;
  /** Cases that were neither refused nor handled (or whose row failed without a leak). */
  accepted: number;
  /** Names of the cases that leaked or were accepted. */
  bad: string[];
}

/** True for a row of the hostile tier. */
export const isHostile = (row: FaultRow): boolean => row.fault.startsWith("hostile/");

/** Groups the hostile rows by class (skipped rows are not counted). */
export function hostileClasses(rows: readonly FaultRow[]): HostileClass[] {
  const byClass = new Map<string, HostileClass>();
  for (const row of rows.filter(isHostile)) {
    if (row.result === "skip") continue;
    const [, name = "?"] = row.fault.split("/");
    const c = byClass.get(name) ?? { name, tried: 0, refused: 0, explained: 0, leaked: 0, accepted: 0, bad: [] };
    byClass.set(name, c);
    const detail = row.detail ?? "";
    c.tried += 1;
    const leaked = /LEAKED/.test(detail);
    const explained = /\bexplained\b/i.test(detail);
    const refused = explained || /\b(refused|handled)\b/i.test(detail);
    if (leaked) c.leaked += 1;
    if (explained) c.explained += 1;
    if (refused && !leaked) c.refused += 1;
    if (leaked || !refused || row.result === "fail") {
      if (!leaked) c.accepted += 1;
      c.bad.push(row.fault);
    }
  }
  return [...byClass.values()].sort((a, b) => a.name.localeCompare(b.name));
}
