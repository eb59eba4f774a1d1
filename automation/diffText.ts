/**
 * Old ⇒ new as text, for the operator CLI's `diff` and the portal's plan view
 * alike (pure, no imports: it runs in the browser too). Short values read on one
 * line; multi-line strings (the remote commands' scripts) as a line diff with
 * the unchanged lines around the change.
 */

/** One line of a property's rendered change: `+` added, `-` removed, ` ` context, `~` one-line change. */
export interface DiffLine {
  readonly sign: "+" | "-" | " " | "~";
  readonly text: string;
}

/** A value as one line: strings quoted, objects and arrays as compact JSON. */
export function formatValue(value: unknown): string {
  if (value === undefined) return "(none)";
  return JSON.stringify(value) ?? String(value);
}

function multiline(value: unknown): value is string {
  return typeof value === "string" && value.includes("\n");
}

/**
 * The lines that show one property's change. Multi-line strings: the lines that
 * differ (common leading and trailing lines cut down to `context` each).
 */
export function changeLines(old: unknown, next: unknown, context = 2): DiffLine[] {
  if (!multiline(old) && !multiline(next)) {
    if (old === undefined) return [{ sign: "+", text: formatValue(next) }];
    if (next === undefined) return [{ sign: "-", text: formatValue(old) }];
    return [{ sign: "~", text: `${formatValue(old)} ⇒ ${formatValue(next)}` }];
  }
  const a = typeof old === "string" ? old.split("\n") : old === undefined ? [] : [formatValue(old)];
  const b = typeof next === "string" ? next.split("\n") : next === undefined ? [] : [formatValue(next)];
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  const lines: DiffLine[] = [];
  const from = Math.max(0, head - context);
  if (from > 0) lines.push({ sign: " ", text: `… ${from} unchanged line${from === 1 ? "" : "s"}` });
  for (const text of a.slice(from, head)) lines.push({ sign: " ", text });
  for (const text of a.slice(head, a.length - tail)) lines.push({ sign: "-", text });
  for (const text of b.slice(head, b.length - tail)) lines.push({ sign: "+", text });
  const after = a.slice(a.length - tail, Math.min(a.length, a.length - tail + context));
  for (const text of after) lines.push({ sign: " ", text });
  const rest = tail - after.length;
  if (rest > 0) lines.push({ sign: " ", text: `… ${rest} unchanged line${rest === 1 ? "" : "s"}` });
  return lines;
}
