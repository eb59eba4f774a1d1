/**
 * How the operator CLI shows things: Pulumi-style plans, tables, and a live
 * one-line-per-tenant status while many operations run. Pure string building;
 * colour only when the caller says so (terminal.ts decides).
 */
import { changeLines } from "../diffText.ts";
import type { DriftFinding } from "../driftProbes.ts";
import type { OperationResult, PlannedStep } from "../operationResult.ts";
import type { PropertyChange } from "../propertyDiff.ts";
import { hasChanges } from "./exitCodes.ts";

export interface Style {
  readonly color: boolean;
}

const CODES = { green: 32, yellow: 33, red: 31, magenta: 35, dim: 2, bold: 1 } as const;
type Color = keyof typeof CODES;

export function paint(style: Style, color: Color, text: string): string {
  return style.color ? `\u001b[${CODES[color]}m${text}\u001b[0m` : text;
}

const OP_SYMBOL: Record<string, [string, Color]> = {
  create: ["+", "green"],
  update: ["~", "yellow"],
  delete: ["-", "red"],
  replace: ["+-", "magenta"],
  "create-replacement": ["++", "magenta"],
  "delete-replaced": ["--", "magenta"],
  read: [">", "dim"],
  refresh: ["~", "dim"],
};

const LINE_COLOR: Record<string, Color> = { "+": "green", "-": "red", "~": "yellow", " ": "dim" };

/** A changed property as `pulumi preview --diff` shows it: `~ path: old ⇒ new`, or a line diff under it. */
export function renderChange(style: Style, change: PropertyChange, indent = "        "): string[] {
  const sign = change.kind.startsWith("add") ? "+" : change.kind.startsWith("delete") ? "-" : "~";
  const color = LINE_COLOR[sign] ?? "yellow";
  const lines = changeLines(change.old, change.new);
  const [only] = lines;
  if (lines.length === 1 && only)
    return [paint(style, color, `${indent}${sign} ${change.path}: ${only.text}`)];
  return [
    paint(style, color, `${indent}${sign} ${change.path}:`),
    ...lines.map((l) => paint(style, LINE_COLOR[l.sign] ?? "dim", `${indent}    ${l.sign} ${l.text}`)),
  ];
}

/**
 * One line per changed resource, like `pulumi preview`; with `details`, every
 * changed property under it with its old and new value (`pulumi preview --diff`).
 */
export function renderPlan(style: Style, steps: readonly PlannedStep[], details: boolean): string {
  const lines: string[] = [];
  for (const step of steps) {
    if (step.op === "same") continue;
    const [symbol, color] = OP_SYMBOL[step.op] ?? ["?", "dim"];
    lines.push(
      paint(style, color, `  ${symbol.padEnd(2)} ${step.type.padEnd(24)} ${step.resource}  ${step.op}`),
    );
    if (details) for (const change of step.changes) lines.push(...renderChange(style, change));
  }
  return lines.length > 0 ? lines.join("\n") : paint(style, "dim", "  no changes");
}

export function renderChanges(changes: Readonly<Record<string, number>>): string {
  const parts = Object.entries(changes)
    .filter(([op, n]) => op !== "same" && n > 0)
    .map(([op, n]) => (op === "drifted" ? `${n} drifted` : `${n} to ${op}`));
  return parts.length > 0 ? parts.join(", ") : "no changes";
}

export function renderDrift(style: Style, drift: readonly DriftFinding[]): string {
  return drift
    .map(
      (d) =>
        `  ${paint(style, "yellow", "~")} ${d.id}: expected ${d.expected}, found ${paint(style, "red", d.observed)}`,
    )
    .join("\n");
}

export function renderResult(style: Style, result: OperationResult, details = false): string {
  const head = `${paint(style, "bold", result.tenant)} ${result.operation} ${statusText(style, result.status)} in ${(result.durationMs / 1000).toFixed(1)} s: ${renderChanges(result.changes)}`;
  const body: string[] = [head];
  if (result.steps) body.push(renderPlan(style, result.steps, details));
  if (result.drift?.length) body.push(renderDrift(style, result.drift));
  for (const v of result.policyViolations) {
    body.push(
      `  ${paint(style, v.level === "mandatory" ? "red" : "yellow", `[${v.level}] ${v.policy}`)}${v.resource ? ` (${v.resource})` : ""}: ${v.message}`,
    );
  }
  if (result.error) body.push(paint(style, "red", `  ${result.error.kind}: ${result.error.message}`));
  return body.join("\n");
}

function statusText(style: Style, status: OperationResult["status"]): string {
  return paint(style, status === "succeeded" ? "green" : "red", status);
}

/** A plain-text table with aligned columns. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/**
 * A live status line per tenant, redrawn in place on a terminal; elsewhere (CI
 * logs) each tenant's line is printed when it starts and when it finishes.
 */
export class LiveStatus {
  private readonly lines = new Map<string, string>();
  private readonly out: NodeJS.WriteStream;
  private readonly tty: boolean;
  private drawn = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(out: NodeJS.WriteStream = process.stderr) {
    this.out = out;
    this.tty = Boolean(out.isTTY);
    if (this.tty) this.timer = setInterval(() => this.draw(), 120);
  }

  update(tenant: string, text: string): void {
    if (!this.tty && !this.lines.has(tenant)) this.out.write(`${tenant}: ${text}\n`);
    this.lines.set(tenant, text);
  }

  done(tenant: string, text: string): void {
    this.lines.set(tenant, text);
    if (!this.tty) this.out.write(`${tenant}: ${text}\n`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty) this.draw();
  }

  private draw(): void {
    const spinner = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"[this.frame++ % 10];
    const text = [...this.lines].map(([t, s]) => `${spinner} ${t.padEnd(24)} ${s}`);
    if (this.drawn > 0) this.out.write(`\u001b[${this.drawn}A`);
    for (const l of text) this.out.write(`\u001b[2K${l}\n`);
    this.drawn = text.length;
  }
}

/**
 * Progress over many tenants as a count, `drift 37/100 tenants`: one line
 * redrawn in place on a terminal; elsewhere (CI logs) a line per tenant as it
 * finishes, with its outcome.
 */
export class TenantTally {
  private readonly label: string;
  private readonly total: number;
  private readonly out: NodeJS.WriteStream;
  private count = 0;
  private failed = 0;
  private changed = 0;

  constructor(label: string, total: number, out: NodeJS.WriteStream = process.stderr) {
    this.label = label;
    this.total = total;
    this.out = out;
    if (out.isTTY) this.draw();
  }

  done(result: OperationResult): void {
    this.count++;
    if (result.status !== "succeeded") this.failed++;
    else if (hasChanges(result)) this.changed++;
    if (this.out.isTTY) this.draw();
    else
      this.out.write(
        `${this.label} ${this.count}/${this.total}: ${result.tenant} ${result.status}, ${renderChanges(result.changes)}\n`,
      );
  }

  stop(): void {
    if (this.out.isTTY) this.out.write("\n");
  }

  private draw(): void {
    const notes = [
      ...(this.changed ? [`${this.changed} with changes`] : []),
      ...(this.failed ? [`${this.failed} failed`] : []),
    ];
    this.out.write(
      `\r\u001b[2K${this.label} ${this.count}/${this.total} tenants${notes.length ? ` (${notes.join(", ")})` : ""}`,
    );
  }
}
