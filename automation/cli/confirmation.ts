/**
 * The confirmation an operator gives before a command that stops or replaces
 * a tenant's data: typing the tenant's name at the terminal. Without a
 * terminal there is no one to ask, so only `--yes` lets the command go on.
 */
export async function confirmedByName(
  tenant: string,
  options: {
    readonly yes: boolean;
    /** What the command does, for the prompt: "This replaces the data of tenant acme." */
    readonly what: string;
    /** Why --yes is needed, for stderr when stdin is not a terminal. */
    readonly withoutTerminal: string;
  },
): Promise<boolean> {
  if (options.yes) return true;
  if (!process.stdin.isTTY) {
    process.stderr.write(`${options.withoutTerminal}: pass --yes when stdin is not a terminal\n`);
    return false;
  }
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`${options.what} Type the tenant name to confirm: `);
  rl.close();
  return answer.trim() === tenant;
}
