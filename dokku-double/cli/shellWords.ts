/**
 * Shell word splitting without expansion, the way docker-options stores options
 * since 0.38.25 (`literalFields` over mvdan/sh): quotes delimit words and are
 * removed, `$…`, `$(…)` and `${…}` stay verbatim, nothing is executed.
 */
export class ShellWordsError extends Error {
  override readonly name = "ShellWordsError";
}

export function splitShellWords(input: string): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let i = 0;
  const closing = (open: string, close: string, from: number): number => {
    let depth = 0;
    for (let j = from; j < input.length; j++) {
      if (input[j] === open) depth++;
      else if (input[j] === close) {
        depth--;
        if (depth === 0) return j;
      }
    }
    throw new ShellWordsError(`reached EOF without matching ${open} with ${close}`);
  };
  while (i < input.length) {
    const c = input[i] ?? "";
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
      i++;
      continue;
    }
    if (c === "#" && !inWord) break;
    inWord = true;
    if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end === -1) throw new ShellWordsError("reached EOF without closing quote '");
      current += input.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= input.length) throw new ShellWordsError('reached EOF without closing quote "');
        const d = input[j] ?? "";
        if (d === '"') break;
        if (d === "\\" && j + 1 < input.length && '$`"\\\n'.includes(input[j + 1] ?? "")) {
          current += input[j + 1] === "\n" ? "" : input[j + 1];
          j += 2;
          continue;
        }
        current += d;
        j++;
      }
      i = j + 1;
    } else if (c === "\\") {
      if (i + 1 < input.length && input[i + 1] !== "\n") current += input[i + 1];
      i += 2;
    } else if (c === "$" && (input[i + 1] === "(" || input[i + 1] === "{")) {
      const end = closing(input[i + 1] ?? "(", input[i + 1] === "(" ? ")" : "}", i + 1);
      current += input.slice(i, end + 1);
      i = end + 1;
    } else {
      current += c;
      i++;
    }
  }
  if (inWord) words.push(current);
  return words;
}

const NEEDS_QUOTING = /[ \t\n"'$`\\*?[\]<>|&;(){}!#~]/;

/** docker-options `quoteShellArg`: single-quote only when the shell would interpret something. */
export function quoteShellArg(word: string): string {
  if (word === "") return "''";
  if (!NEEDS_QUOTING.test(word)) return word;
  return `'${word.replaceAll("'", "'\\''")}'`;
}

export function joinShellWords(words: readonly string[]): string {
  return words.map(quoteShellArg).join(" ");
}
