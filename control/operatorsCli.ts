/**
 * `mindroom-ops operators add|remove|list`: who may use the operator console.
 * The person signs up in the portal first (an account in Supabase Auth); this
 * grants or revokes the role, with an audit row naming who did it.
 *
 * Exit codes: 0 success (also when nothing had to change), 1 error, 2 usage
 * error, 6 no account with that email.
 */
import { parseArgs } from "node:util";
import { renderTable } from "../automation/cli/render.ts";
import { STANDARD_OPTIONS } from "../automation/cli/standardOptions.ts";
import { audit, cliOperator } from "../database/auditLog.ts";
import { openDatabase } from "../database/connection.ts";
import { findAccountByEmail, grantOperator, listOperators, revokeOperator } from "../database/operators.ts";
import { loadDatabaseSettings } from "../database/settings.ts";
import { transaction } from "../database/transaction.ts";

export const OPERATORS_HELP = `Usage: mindroom-ops operators list [--json]
       mindroom-ops operators add <email> [--reason R]
       mindroom-ops operators remove <email> [--reason R]

Who may use the operator console. The person signs up in the portal first; add grants
the role to that account, remove takes it away. Each change writes an audit row
(actor: operator:<MINDROOM_OPERATOR or your login name>).

Exit codes: 0 success (also when nothing had to change), 1 error, 2 usage error,
6 no account with that email. Configuration: DATABASE_URL.`;

export class OperatorsUsageError extends Error {}

export async function operatorsMain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...STANDARD_OPTIONS, reason: { type: "string" } },
  });
  const [command = "", email] = positionals;
  if (values.help || command === "") {
    process.stdout.write(`${OPERATORS_HELP}\n`);
    return command === "" && !values.help ? 2 : 0;
  }
  if (!["list", "add", "remove"].includes(command))
    throw new OperatorsUsageError(`unknown operators command ${command}`);
  if (command !== "list" && !email?.includes("@"))
    throw new OperatorsUsageError(`operators ${command} needs an email`);
  const database = await openDatabase(loadDatabaseSettings(), { maxConnections: 2 });
  try {
    if (command === "list") {
      const operators = await listOperators(database.pool);
      process.stdout.write(
        values.json
          ? `${JSON.stringify(operators, null, 2)}\n`
          : `${renderTable(
              ["EMAIL", "SINCE", "ACCOUNT"],
              operators.map((o) => [o.email, o.since.toISOString().slice(0, 16).replace("T", " "), o.userId]),
            )}\n`,
      );
      return 0;
    }
    const account = await findAccountByEmail(database.pool, email as string);
    if (!account) {
      process.stderr.write(
        `mindroom-ops: no account signs in as ${email}: they sign up in the portal first, then run this again\n`,
      );
      return 6;
    }
    const changed = await transaction(database.pool, async (tx) => {
      const done =
        command === "add" ? await grantOperator(tx, account.id) : await revokeOperator(tx, account.id);
      if (done)
        await audit(tx, {
          actor: cliOperator(),
          action: command === "add" ? "operator.granted" : "operator.revoked",
          reason: values.reason ?? null,
          details: { email: account.email, userId: account.id },
        });
      return done;
    });
    const text =
      command === "add"
        ? changed
          ? `${account.email} is now an operator`
          : `${account.email} was an operator already`
        : changed
          ? `${account.email} is no longer an operator`
          : `${account.email} was not an operator`;
    process.stdout.write(
      values.json ? `${JSON.stringify({ email: account.email, changed })}\n` : `${text}\n`,
    );
    return 0;
  } finally {
    await database.close();
  }
}
