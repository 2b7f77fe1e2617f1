/**
 * Plain-scalar resolution exactly as PyYAML's `SafeLoader` (what tesseract-core reads
 * `tesseract_config.yaml` with), replacing the `yaml` package's YAML 1.1 bool, int and float tags,
 * which differ at the edges: PyYAML reads `y`/`n` as strings (not booleans), `1e3` and `09` as
 * strings (a float needs a dot and a signed exponent; a leading 0 means octal), `-.5` as a string.
 * Found by differential fuzzing (test/unit/config-fuzz.test.ts).
 */
import YAML, { type ScalarTag } from "yaml";

const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** Sexagesimal `a:b:c` (base 60), as PyYAML reads it. */
function base60(text: string, parse: (s: string) => number): number {
  return text.split(":").reduce((acc, part) => acc * 60 + parse(part), 0);
}

function resolveInt(source: string): number {
  let s = source.replace(/_/g, "");
  let sign = 1;
  if (s[0] === "-" || s[0] === "+") {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s.startsWith("0b")) return sign * Number.parseInt(s.slice(2), 2);
  if (s.startsWith("0x")) return sign * Number.parseInt(s.slice(2), 16);
  if (s.startsWith("0")) return sign * Number.parseInt(s, 8);
  if (s.includes(":")) return sign * base60(s, Number);
  return sign * Number(s);
}

function resolveFloat(source: string): number {
  let s = source.replace(/_/g, "").toLowerCase();
  let sign = 1;
  if (s[0] === "-" || s[0] === "+") {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === ".inf") return sign * Number.POSITIVE_INFINITY;
  if (s === ".nan") return Number.NaN;
  if (s.includes(":")) return sign * base60(s, Number.parseFloat);
  return sign * Number(s);
}

const PYYAML_TAGS: ScalarTag[] = [
  { tag: "tag:yaml.org,2002:bool", default: true, test: BOOL, resolve: (s) => /^(?:y|t|o[nN]|O[nN])/i.test(s) },
  { tag: "tag:yaml.org,2002:int", default: true, test: INT, resolve: resolveInt },
  { tag: "tag:yaml.org,2002:float", default: true, test: FLOAT, resolve: resolveFloat },
];

const REPLACED = new Set(PYYAML_TAGS.map((t) => t.tag));

/** `customTags` for `YAML.parse*`: the YAML 1.1 tags with bool, int and float resolved as PyYAML does. */
export function pyyamlTags(tags: unknown[]): unknown[] {
  const kept = tags.filter((t) => !(t as ScalarTag).default || !REPLACED.has((t as ScalarTag).tag));
  return [...PYYAML_TAGS, ...kept];
}

/**
 * Mapping keys that PyYAML reads as something other than a string (`1:`, `true:`, `~:`), where
 * upstream's models need strings: every level except inside `metadata` values (`dict[str, Any]`).
 * A JavaScript object would silently turn them into strings, so they are reported here.
 */
export function nonStringKeys(doc: YAML.Document): string[] {
  const found: string[] = [];
  YAML.visit(doc, {
    Pair(_, pair, ancestors) {
      const keys = ancestors.filter(YAML.isPair).map((p) => String(YAML.isScalar(p.key) ? p.key.value : p.key));
      if (keys[0] === "metadata" && keys.length >= 2) return;
      const key = pair.key;
      if (YAML.isScalar(key) && typeof key.value === "string") return;
      const shown = YAML.isScalar(key) ? String(key.value) : String(key);
      found.push(
        `${keys.length ? `${keys.join(".")}: ` : ""}key ${shown} is not a string (fix: quote it, e.g. "${shown}")`,
      );
    },
  });
  return found;
}
