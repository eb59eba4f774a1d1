/**
 * JSON exactly as Go's `encoding/json` writes it, because clients compare the
 * bytes of `--format json` output: maps have sorted keys (use {@link sortedRecord};
 * structs keep field order, so build those objects in Go's order), and `<`, `>`,
 * `&`, U+2028 and U+2029 are escaped as `\u003c`-style sequences.
 */
const GO_ESCAPES: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

function escapeLikeGo(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c] ?? c);
}

/** `json.Marshal`. */
export function goMarshal(value: unknown): string {
  return escapeLikeGo(JSON.stringify(value) ?? "null");
}

/** `json.MarshalIndent(v, "", "  ")`. */
export function goMarshalIndent(value: unknown): string {
  return escapeLikeGo(JSON.stringify(value, null, 2) ?? "null");
}

/** A copy of a Go map with its keys in Go's (byte-wise) sorted order. */
export function sortedRecord<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  const sorted: Record<string, T> = {};
  for (const key of Object.keys(record).sort(compareBytes)) sorted[key] = record[key] as T;
  return sorted;
}

/** Go's `sort.Strings` order (byte-wise, which for our ASCII keys is code-unit order). */
export function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
