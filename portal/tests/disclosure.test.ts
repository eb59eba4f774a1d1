/**
 * What customers see of the platform's insides: nothing. A customer whose instance failed the way
 * real ones do (an SSH handshake failure with the engine's stack trace, a policy refusal), whose
 * operations were requested by an operator with an internal note, and whose instance row holds
 * the host's SSH address, reads their dashboard, billing page, /api/instance, the data export and
 * the dashboard and billing server functions: plain-language problems, and never the host, the
 * raw engine output or the operator's identity. Operators still see the details. A server function
 * that fails sends a plain sentence, never its error's message.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthClient } from "../../auth-server/client.ts";
import { CUSTOMER_PROBLEMS } from "../src/server/customerFacing.ts";
import { SOMETHING_WENT_WRONG } from "../src/server/serverFunctionErrors.ts";
import { type PortalEnvironment, startPortalEnvironment } from "./environment.ts";
import { PASSWORD, type Person, seedPerson } from "./people.ts";
import { callServerFunction, type ServerFunction, serverFunctions } from "./serverFunctions.ts";

const HOST = "ssh://root@10.9.8.7:2222";
const OPERATOR = "ops-hidden@mindroom.example";
const ENGINE_ERROR = [
  "CommandError: code: 255",
  " stderr: error: ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey] on 10.9.8.7:2222",
  "    at Object.<anonymous> (/srv/mindroom/automation/tenantStacks.ts:312:11)",
  "    at runPulumiCmd (/srv/mindroom/node_modules/@pulumi/pulumi/automation/cmd.js:98:15)",
].join("\n");
const POLICY_ERROR =
  "policy tls-on-public-domains: domain x.mindroom.test has no certificate\nEngineError: preview failed";
const INTERNAL_NOTE = "note for ops only: customer is on the watch list";

/** Everything that must not reach a customer. */
const SECRETS = [
  "10.9.8.7",
  "ssh://",
  OPERATOR,
  "handshake failed",
  "Object.<anonymous>",
  "/srv/mindroom",
  "tenantStacks.ts",
  "CommandError",
  "tls-on-public-domains",
  "EngineError",
  INTERNAL_NOTE,
  "spec-hash-applied",
];

let env: PortalEnvironment;
let ada: Person;
let operatorCookie: string;
let functions: ServerFunction[];

function get(path: string, cookie: string) {
  return fetch(`${env.url}${path}`, { redirect: "manual", headers: { cookie } });
}

function expectNoSecrets(what: string, text: string) {
  for (const secret of SECRETS) expect([what, text.includes(secret)]).toEqual([what, false]);
}

beforeAll(async () => {
  env = await startPortalEnvironment();
  const auth = new AuthClient({ authUrl: env.auth.authUrl });
  ada = await seedPerson(env, auth, "ada");
  const pool = env.db.pool;
  await pool.query(
    `update public.instances set host = $2, actual_state = 'failed', last_error = $3,
        spec_hash = 'spec-hash-applied', applied_spec_hash = 'spec-hash-applied',
        outputs = outputs || jsonb_build_object('host', $2::text) where id = $1`,
    [ada.instanceId, HOST, ENGINE_ERROR],
  );
  await pool.query(
    `insert into public.operations (instance_id, kind, trigger, requested_by, reason, status, error, progress, started_at, finished_at)
     values ($1, 'up', 'operator', $2, $3, 'failed', $4, $5, now(), now()),
            ($1, 'up', 'operator', $2, $3, 'failed', $6, null, now(), now()),
            ($1, 'up', 'stripe', null, 'customer.subscription.updated evt_1: active → running', 'running', null, $7, now(), null)`,
    [
      ada.instanceId,
      `operator:${OPERATOR}`,
      `operator.reconcile: ${INTERNAL_NOTE}`,
      ENGINE_ERROR,
      JSON.stringify({ step: "mr-ada-app", done: 2, total: 5, message: `create mr-ada-app on ${HOST}` }),
      POLICY_ERROR,
      JSON.stringify({ step: "mr-ada-app", done: 3, total: 7, message: `update mr-ada-app on ${HOST}` }),
    ],
  );
  await pool.query(
    `insert into public.audit_log (actor, customer_id, instance_id, action, reason, details)
     values ($1, $2, $3, 'operator.reconcile', $4, $5)`,
    [`operator:${OPERATOR}`, ada.customerId, ada.instanceId, INTERNAL_NOTE, JSON.stringify({ host: HOST })],
  );
  const ops = await auth.signUp(`ops-${Date.now().toString(36)}@example.com`, PASSWORD);
  await pool.query("insert into public.operators (user_id) values ($1)", [ops.session.identity.id]);
  operatorCookie = `mr_session=${ops.sessionToken}`;
  functions = serverFunctions(env.buildDir);
});

afterAll(async () => {
  await env?.stop();
});

describe("a customer", () => {
  it("reads plain-language problems on the dashboard, and none of the insides", async () => {
    const page = await (await get("/dashboard", ada.cookie)).text();
    expectNoSecrets("/dashboard", page);
    expect(page).toContain(CUSTOMER_PROBLEMS.unreachable);
    expect(page).toContain(CUSTOMER_PROBLEMS.refused);
    expect(page).toContain("our support team");
    expect(page).toContain("Step 3 of 7");
    expect(page).toContain(`https://${ada.slug}.mindroom.test`);
    expectNoSecrets("/billing", await (await get("/billing", ada.cookie)).text());
  });

  it("gets the same through /api/instance and the server functions", async () => {
    const api = await get("/api/instance", ada.cookie);
    expect(api.status).toBe(200);
    const body = await api.text();
    expectNoSecrets("/api/instance", body);
    const view = JSON.parse(body);
    expect(view.instance.problem).toBe(CUSTOMER_PROBLEMS.unreachable);
    expect(view.instance.urls.app).toBe(`https://${ada.slug}.mindroom.test`);
    expect(Object.keys(view.instance)).not.toEqual(expect.arrayContaining(["host"]));
    for (const name of ["dashboard", "billing", "account", "session"]) {
      const fn = functions.find((f) => f.name === name);
      const answer = await callServerFunction(env.url, fn?.id ?? "", ada.cookie);
      expect([name, answer.status]).toEqual([name, 200]);
      expectNoSecrets(name, answer.body);
    }
  });

  it("exports their data without the insides", async () => {
    const answer = await get("/api/account/export", ada.cookie);
    const text = await answer.text();
    expectNoSecrets("export", text);
    const data = JSON.parse(text);
    expect(data.instances[0].problem).toBe(CUSTOMER_PROBLEMS.unreachable);
    expect(data.operations.map((o: { requested_by: string }) => o.requested_by)).toContain(
      "our support team",
    );
    expect(data.history).toContainEqual(
      expect.objectContaining({ by: "our support team", action: "operator.reconcile" }),
    );
  });

  it("gets a plain sentence when a server function fails, never the error's message", async () => {
    // A signed-in person with no customer row makes the billing actions throw internally.
    const auth = new AuthClient({ authUrl: env.auth.authUrl });
    const lost = await auth.signUp(`lost-${Date.now().toString(36)}@example.com`, PASSWORD);
    const fn = functions.find((f) => f.name === "billingPortal");
    const answer = await callServerFunction(env.url, fn?.id ?? "", `mr_session=${lost.sessionToken}`);
    expect(decodeURIComponent(answer.headers.get("x-error") ?? "")).toBe(SOMETHING_WENT_WRONG);
    expect(answer.body).toContain(SOMETHING_WENT_WRONG);
    expect(answer.body).not.toContain("customer row");
    expect(env.output()).toContain("no customer row for a signed-in person");
  });
});

describe("an operator", () => {
  it("still sees the host, the engine's output and who asked", async () => {
    const answer = await get(`/api/operator/tenants/${ada.instanceId}`, operatorCookie);
    const text = await answer.text();
    for (const detail of ["10.9.8.7", OPERATOR, "handshake failed", "tls-on-public-domains", INTERNAL_NOTE])
      expect([detail, text.includes(detail)]).toEqual([detail, true]);
    const page = await (await get(`/operator/tenants/${ada.instanceId}`, operatorCookie)).text();
    expect(page).toContain("handshake failed");
    expect(page).toContain(OPERATOR);
  });
});
