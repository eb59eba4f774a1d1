/**
 * Critical alerts by email: Alertmanager's webhook payload posted to the internal listener's
 * `/alerts` reaches every operator through the platform's mailer (the test run's Mailpit, real
 * Postgres for who the operators are); warnings do not; a payload that does not parse is refused
 * and mails nothing; without a mailer Alertmanager is told to retry.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMailer, type Mailer } from "../mail/transport.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { type Inbox, testMailpit } from "../testing/mailpit.ts";
import { type AlertmanagerPayload, criticalAlertMail, receiveAlerts } from "./alertMail.ts";
import { type MetricsServer, startMetricsServer } from "./metricsServer.ts";

const alert = (
  name: string,
  severity: string,
  status: "firing" | "resolved" = "firing",
  labels: Record<string, string> = {},
) => ({
  status,
  labels: { alertname: name, severity, ...labels },
  annotations: {
    summary: `${name} <summary>`,
    runbook_url: `https://ops.example.com/runbooks#${name}`,
  },
  startsAt: "2026-12-05T03:00:00Z",
  ...(status === "resolved" ? { endsAt: "2026-12-05T03:30:00Z" } : {}),
});

const payload = (alerts: ReturnType<typeof alert>[]): AlertmanagerPayload => ({
  version: "4",
  groupKey: `{}:{alertname="${alerts[0]?.labels.alertname}"}`,
  status: alerts.some((a) => a.status === "firing") ? "firing" : "resolved",
  receiver: "operators-mail",
  externalURL: "http://alertmanager.internal:9093",
  alerts,
});

describe("the critical alert email", () => {
  it("holds every critical alert of the group, firing or resolved, and nothing else", () => {
    const mail = criticalAlertMail(
      payload([
        alert("MindroomDeadLetters", "critical"),
        alert("MindroomDriftFound", "warning"),
        alert("MindroomTenantDegraded", "critical", "resolved", { tenant: "acme" }),
      ]),
    );
    expect(mail?.subject).toBe("[MindRoom CRITICAL, 1 firing] MindroomDeadLetters, MindroomTenantDegraded");
    expect(mail?.text).toContain("FIRING: MindroomDeadLetters");
    expect(mail?.text).toContain("RESOLVED: MindroomTenantDegraded (tenant acme)");
    expect(mail?.text).toContain("runbook: https://ops.example.com/runbooks#MindroomDeadLetters");
    expect(mail?.text).not.toContain("MindroomDriftFound");
    // Label and annotation values are escaped in HTML.
    expect(mail?.html).toContain("MindroomDeadLetters &lt;summary&gt;");
    expect(mail?.html).not.toContain("<summary>");
  });

  it("is not sent for warnings alone, and says resolved when nothing fires", () => {
    expect(criticalAlertMail(payload([alert("MindroomDriftFound", "warning")]))).toBeUndefined();
    expect(criticalAlertMail(payload([alert("MindroomDeadLetters", "critical", "resolved")]))?.subject).toBe(
      "[MindRoom resolved] MindroomDeadLetters",
    );
  });
});

describe("POST /alerts", () => {
  let db: TestDatabase;
  let inbox: Inbox;
  let mailer: Mailer;
  let withMail: MetricsServer;
  let withoutMail: MetricsServer;
  const operators = [0, 1].map(() => `ops-${randomBytes(4).toString("hex")}@example.com`);

  beforeAll(async () => {
    db = await testDatabase();
    const mailpit = await testMailpit();
    inbox = mailpit.inbox;
    mailer = createMailer({ smtpUrl: mailpit.smtpUrl, from: "MindRoom <alerts@mindroom.test>" });
    for (const email of operators) {
      const id = randomUUID();
      await db.pool.query("insert into auth.users (id, email) values ($1, $2)", [id, email]);
      await db.pool.query("insert into public.operators (user_id) values ($1)", [id]);
    }
    const deps = (m: Mailer | undefined) => ({
      pool: db.pool,
      mailer: () => m,
      messageDomain: "mindroom.test",
    });
    const listener = { host: "127.0.0.1", port: 0 };
    withMail = await startMetricsServer([], listener, {
      "/alerts": (body) => receiveAlerts(deps(mailer), body),
    });
    withoutMail = await startMetricsServer([], listener, {
      "/alerts": (body) => receiveAlerts(deps(undefined), body),
    });
  });
  afterAll(async () => {
    await withMail?.close();
    await withoutMail?.close();
    mailer?.close();
    await db?.close();
  });

  const post = (server: MetricsServer, body: string) =>
    fetch(`${server.url}/alerts`, { method: "POST", body, headers: { "content-type": "application/json" } });

  it("mails every operator the critical alerts, once per operator", async () => {
    const answer = await post(
      withMail,
      JSON.stringify(
        payload([alert("MindroomProvisioningStuck", "critical"), alert("MindroomDriftFound", "warning")]),
      ),
    );
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ mailed: 2 });
    for (const email of operators) {
      const received = await inbox.messagesTo(email);
      expect(received.map((m) => m.subject)).toEqual([
        "[MindRoom CRITICAL, 1 firing] MindroomProvisioningStuck",
      ]);
      expect(received[0]?.text).toContain("FIRING: MindroomProvisioningStuck");
      expect(received[0]?.headers["X-Mindroom-Kind"] ?? received[0]?.headers["X-MindRoom-Kind"]).toEqual([
        "critical_alert",
      ]);
    }
  });

  it("mails nothing for warnings, and refuses what is not Alertmanager's payload", async () => {
    const warning = await post(withMail, JSON.stringify(payload([alert("MindroomDriftFound", "warning")])));
    expect(await warning.json()).toEqual({ mailed: 0 });
    const garbage = await post(withMail, "{not json");
    expect(garbage.status).toBe(400);
    const wrong = await post(withMail, JSON.stringify({ version: "3", alerts: [] }));
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toMatch(/Alertmanager/);
    const get = await fetch(`${withMail.url}/alerts`);
    expect(get.status).toBe(405);
    for (const email of operators) expect(await inbox.messagesTo(email)).toHaveLength(1);
  });

  it("answers 503 without a mailer, so Alertmanager sends the group again", async () => {
    const answer = await post(
      withoutMail,
      JSON.stringify(payload([alert("MindroomDeadLetters", "critical")])),
    );
    expect(answer.status).toBe(503);
    for (const email of operators) expect(await inbox.messagesTo(email)).toHaveLength(1);
  });
});
