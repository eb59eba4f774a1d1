/**
 * Just enough of Python's grammar to read pydantic model definitions from
 * source without running them: logical lines (brackets, continuations and
 * strings spanning physical lines joined, comments dropped, indentation kept)
 * and expressions as trees (names, subscripts, calls, `|` unions, literals).
 * The MindRoom runtime needs Python >= 3.12 and its modules import half the
 * runtime, so the project reads its config models instead of importing them.
 */

export interface LogicalLine {
  /** Columns of indentation of its first physical line. */
  readonly indent: number;
  /** The line's code, comments removed, physical lines joined by spaces. */
  readonly text: string;
  /** 1-based line number where it starts (for messages). */
  readonly line: number;
}

const STRING_START = /^([rRbBuUfF]{0,2})('''|"""|'|")/;

/** Splits source into logical lines; strings are kept verbatim (with their quotes). */
export function logicalLines(source: string): LogicalLine[] {
  const lines: LogicalLine[] = [];
  let current = "";
  let depth = 0;
  let indent = -1;
  let startLine = 1;
  let lineNo = 1;
  let i = 0;
  const flush = () => {
    const text = current.trim();
    if (text !== "") lines.push({ indent: Math.max(indent, 0), text, line: startLine });
    current = "";
    indent = -1;
  };
  while (i < source.length) {
    const ch = source[i] as string;
    if (indent < 0) {
      // Start of a logical line: measure indentation, skip blank lines.
      let col = 0;
      let j = i;
      while (source[j] === " " || source[j] === "\t") {
        col += source[j] === "\t" ? 8 - (col % 8) : 1;
        j++;
      }
      if (source[j] === "\n" || source[j] === "#" || j >= source.length) {
        while (j < source.length && source[j] !== "\n") j++;
        i = j + 1;
        lineNo++;
        continue;
      }
      indent = col;
      startLine = lineNo;
      i = j;
      continue;
    }
    if (ch === "#") {
      while (i < source.length && source[i] !== "\n") i++;
      continue;
    }
    if (ch === "\\" && source[i + 1] === "\n") {
      current += " ";
      i += 2;
      lineNo++;
      continue;
    }
    const string = STRING_START.exec(source.slice(i, i + 5));
    if (string && (string[1] === "" || /[A-Za-z]/.test(ch))) {
      const prefix = string[1] ?? "";
      const quote = string[2] ?? "";
      // A name that merely ends in r/b/u/f (e.g. `for"`) is not a prefix: only at a token boundary.
      if (prefix === "" || !/[A-Za-z0-9_]/.test(source[i - 1] ?? " ")) {
        let j = i + prefix.length + quote.length;
        while (j < source.length) {
          if (source[j] === "\\") {
            j += 2;
            continue;
          }
          if (source.startsWith(quote, j)) break;
          if (source[j] === "\n") {
            if (quote.length === 1) break;
            lineNo++;
          }
          j++;
        }
        current += source.slice(i, j + quote.length);
        i = j + quote.length;
        continue;
      }
    }
    if (ch === "(" || ch === "[" || ch === "{") depth++;
    if (ch === ")" || ch === "]" || ch === "}") depth = Math.max(0, depth - 1);
    if (ch === "\n") {
      lineNo++;
      i++;
      if (depth > 0) {
        current += " ";
        while (source[i] === " " || source[i] === "\t") i++;
        continue;
      }
      flush();
      continue;
    }
    current += ch;
    i++;
  }
  flush();
  return lines;
}

export type Expr =
  | { readonly kind: "name"; readonly name: string }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "number"; readonly value: number }
  | { readonly kind: "const"; readonly value: null | boolean | "..." }
  | { readonly kind: "subscript"; readonly target: string; readonly args: readonly Expr[] }
  | {
      readonly kind: "call";
      readonly target: string;
      readonly args: readonly Expr[];
      readonly kwargs: Readonly<Record<string, Expr>>;
    }
  | { readonly kind: "union"; readonly options: readonly Expr[] }
  | { readonly kind: "tuple"; readonly items: readonly Expr[] }
  | { readonly kind: "other"; readonly text: string };

type Token = { readonly type: "name" | "string" | "number" | "op"; readonly text: string };

function tokens(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const string =
      /^([rRbBuUfF]{0,2})('''[\s\S]*?'''|"""[\s\S]*?"""|'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")/.exec(rest);
    if (string) {
      out.push({ type: "string", text: string[0] });
      i += string[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(rest);
    if (name) {
      out.push({ type: "name", text: name[0] });
      i += name[0].length;
      continue;
    }
    const number = /^-?[0-9][0-9_]*(?:\.[0-9_]+)?(?:[eE][-+]?[0-9]+)?/.exec(rest);
    if (number) {
      out.push({ type: "number", text: number[0] });
      i += number[0].length;
      continue;
    }
    const op = /^(?:\.\.\.|\*\*|==|!=|<=|>=|->|:=|[-+*/%@&|^~<>()[\]{},:=.;!])/.exec(rest);
    out.push({ type: "op", text: op ? op[0] : (rest[0] as string) });
    i += op ? op[0].length : 1;
  }
  return out;
}

/** The value of a Python string literal (escapes of the common kinds; prefixes dropped). */
export function stringValue(literal: string): string {
  const body = literal.replace(/^[rRbBuUfF]{0,2}/, "");
  const quote = body.startsWith('"""') || body.startsWith("'''") ? 3 : 1;
  const raw = /^[rR]/.test(literal) || /^[bBuUfF][rR]/.test(literal);
  const inner = body.slice(quote, body.length - quote);
  if (raw) return inner;
  return inner.replace(/\\(["'\\nt])/g, (_, c: string) => (c === "n" ? "\n" : c === "t" ? "\t" : c));
}

/** Parses one expression (an annotation, a default, a call); what it cannot read becomes `other`. */
export function parseExpr(text: string): Expr {
  const list = tokens(text);
  let pos = 0;
  const peek = () => list[pos];
  const take = () => list[pos++];
  const is = (op: string) => peek()?.type === "op" && peek()?.text === op;

  function args(close: string): { positional: Expr[]; keywords: Record<string, Expr> } {
    const positional: Expr[] = [];
    const keywords: Record<string, Expr> = {};
    while (pos < list.length && !is(close)) {
      const t = peek();
      const next = list[pos + 1];
      if (t?.type === "name" && next?.type === "op" && next.text === "=") {
        pos += 2;
        keywords[t.text] = union();
      } else if (is("*") || is("**")) {
        take();
        union();
      } else {
        positional.push(union());
      }
      if (is(",")) take();
      else if (!is(close)) skipTo(close);
    }
    if (is(close)) take();
    return { positional, keywords };
  }

  function skipTo(close: string) {
    let depth = 0;
    while (pos < list.length) {
      const t = peek() as Token;
      if (t.type === "op" && "([{".includes(t.text)) depth++;
      if (t.type === "op" && ")]}".includes(t.text)) {
        if (depth === 0 && t.text === close) return;
        depth--;
      }
      if (depth === 0 && t.type === "op" && t.text === ",") return;
      take();
    }
  }

  function primary(): Expr {
    const t = take();
    if (!t) return { kind: "other", text: "" };
    if (t.type === "string") {
      let value = stringValue(t.text);
      // Implicit concatenation of adjacent literals.
      while (peek()?.type === "string") value += stringValue((take() as Token).text);
      return { kind: "string", value };
    }
    if (t.type === "number") return { kind: "number", value: Number(t.text.replaceAll("_", "")) };
    if (t.type === "op" && t.text === "...") return { kind: "const", value: "..." };
    if (t.type === "op" && (t.text === "(" || t.text === "[")) {
      const close = t.text === "(" ? ")" : "]";
      const { positional } = args(close);
      return positional.length === 1 && t.text === "("
        ? (positional[0] as Expr)
        : { kind: "tuple", items: positional };
    }
    if (t.type === "op" && t.text === "{") {
      skipTo("}");
      take();
      return { kind: "other", text: "{…}" };
    }
    if (t.type === "name") {
      if (t.text === "None") return { kind: "const", value: null };
      if (t.text === "True" || t.text === "False") return { kind: "const", value: t.text === "True" };
      if (t.text === "lambda") {
        skipTo(")");
        return { kind: "other", text: "lambda" };
      }
      if (is("[")) {
        take();
        const { positional } = args("]");
        // `X[a, b]` arrives as one tuple argument when written with parentheses; flatten it.
        const flat =
          positional.length === 1 && positional[0]?.kind === "tuple" ? positional[0].items : positional;
        return { kind: "subscript", target: t.text, args: flat };
      }
      if (is("(")) {
        take();
        const { positional, keywords } = args(")");
        return { kind: "call", target: t.text, args: positional, kwargs: keywords };
      }
      return { kind: "name", name: t.text };
    }
    return { kind: "other", text: t.text };
  }

  function union(): Expr {
    const first = primary();
    // Anything after the value we do not model (arithmetic, attribute chains): keep the value.
    const options = [first];
    while (is("|")) {
      take();
      options.push(primary());
    }
    while (pos < list.length && !is(",") && !is(")") && !is("]") && !is("}") && !is("|") && !is(":")) take();
    return options.length === 1 ? first : { kind: "union", options };
  }

  const expr = union();
  return expr;
}

/** `name: annotation = default` at class-body level, split at the top-level `:` and `=`. */
export function splitAnnotated(
  text: string,
): { name: string; annotation: string; value: string | undefined } | undefined {
  const head = /^([A-Za-z_][A-Za-z0-9_]*)\s*:(?!=)/.exec(text);
  if (!head) return undefined;
  const rest = text.slice(head[0].length);
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i] as string;
    if (quote) {
      if (ch === "\\") i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if ("([{".includes(ch)) depth++;
    else if (")]}".includes(ch)) depth--;
    else if (ch === "=" && depth === 0 && rest[i + 1] !== "=" && !"<>!=".includes(rest[i - 1] ?? "")) {
      return {
        name: head[1] as string,
        annotation: rest.slice(0, i).trim(),
        value: rest.slice(i + 1).trim(),
      };
    }
  }
  return { name: head[1] as string, annotation: rest.trim(), value: undefined };
}
