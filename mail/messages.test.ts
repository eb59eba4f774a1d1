/**
 * Every email kind renders from its facts: subject, text and HTML carry the
 * facts (dates in UTC, links to the portal), HTML escapes what it is given,
 * and facts that do not fit their kind are refused with the field named.
 */
import { describe, expect, test } from "vitest";
import {
  FACTS,
  formatDate,
  MAIL_KINDS,
  type MailFacts,
  MailFactsError,
  type MailKind,
  renderMail,
} from "./messages.ts";

const links = { portalUrl: "https://portal.example.com" };
const base = { name: "Ada", slug: "ada-x1", tier: "starter" };

const SAMPLES: { readonly [K in MailKind]: MailFacts<K> } = {
  welcome: {
    ...base,
    email: "ada@example.com",
    urls: {
      app: "https://ada-x1.mindroom.test",
      api: "https://ada-x1.api.mindroom.test",
      matrix: "https://ada-x1.matrix.mindroom.test",
    },
  },
  provisioning_delayed: {
    ...base,
    at: "2026-12-04T10:00:00.000Z",
    nextAttemptAt: "2026-12-04T10:00:30.000Z",
  },
  provisioning_failed: { ...base, at: "2026-12-04T10:00:00.000Z" },
  payment_failed: { ...base, at: "2026-12-04T10:00:00.000Z", periodEnd: "2027-01-04T10:00:00.000Z" },
  suspended: { ...base, at: "2026-12-05T08:30:00.000Z", cause: "payment", reason: null },
  resumed: { ...base, at: "2026-12-06T09:15:00.000Z", urls: { app: "https://ada-x1.mindroom.test" } },
  deletion_scheduled: { ...base, at: "2026-12-07T12:00:00.000Z", deletionDueAt: "2026-12-14T12:00:00.000Z" },
  deleted: { ...base, at: "2026-12-14T12:00:05.000Z" },
  data_export_ready: { name: "Ada", at: "2026-12-04T10:00:00.000Z", path: "/api/account/export" },
  quota_warning: {
    ...base,
    metric: "storage",
    percent: 80,
    used: "8.1 GB",
    limit: "10 GB",
    day: "2026-12-04",
  },
};

describe("every kind", () => {
  test.each(MAIL_KINDS)("%s renders text and HTML with a greeting and portal links", (kind) => {
    const mail = renderMail(kind, SAMPLES[kind], links);
    expect(mail.subject.length).toBeGreaterThan(10);
    expect(mail.text).toMatch(/^Hello Ada,\n/);
    expect(mail.text).toContain("https://portal.example.com/");
    expect(mail.html).toContain('<html lang="en">');
    expect(mail.html).toContain('href="https://portal.example.com/');
    // Every link in the text is a link in the HTML.
    for (const href of mail.text.match(/https?:\/\/\S+/g) ?? [])
      expect(mail.html).toContain(href.replace(/[.,)]+$/, ""));
  });

  test("the kinds are exactly the ones with facts", () => {
    expect(MAIL_KINDS.sort()).toEqual(Object.keys(FACTS).sort());
  });
});

describe("what they say", () => {
  test("welcome: the dashboard, how to sign in with their email, the instance's URLs", () => {
    const mail = renderMail("welcome", SAMPLES.welcome, links);
    expect(mail.text).toContain("Your dashboard: https://portal.example.com/dashboard");
    expect(mail.text).toContain("Sign in: https://portal.example.com/login");
    expect(mail.text).toContain("ada@example.com");
    expect(mail.text).toContain("https://ada-x1.mindroom.test");
    expect(mail.text).toContain("https://ada-x1.matrix.mindroom.test");
    expect(mail.text).toContain("Starter plan");
  });

  test("dates are written out in UTC, saying so", () => {
    expect(formatDate("2026-12-14T12:00:00.000Z")).toBe("Monday, 14 December 2026 at 12:00 UTC");
    const mail = renderMail("deletion_scheduled", SAMPLES.deletion_scheduled, links);
    expect(mail.subject).toBe("Your MindRoom will be deleted on Monday, 14 December 2026");
    expect(mail.text).toContain("kept until Monday, 14 December 2026 at 12:00 UTC");
    expect(mail.text).toContain("ended on Monday, 7 December 2026 at 12:00 UTC");
  });

  test("payment failure names the day and the billing period, and links to billing", () => {
    const mail = renderMail("payment_failed", SAMPLES.payment_failed, links);
    expect(mail.text).toContain("on Friday, 4 December 2026 at 10:00 UTC");
    expect(mail.text).toContain("billing period ending Monday, 4 January 2027");
    expect(mail.text).toContain("https://portal.example.com/billing");
  });

  test("a suspension says why: payment, an operator's hold with its reason, or the subscription", () => {
    const payment = renderMail("suspended", SAMPLES.suspended, links);
    expect(payment.text).toContain("its payment could not be taken");
    const hold = renderMail(
      "suspended",
      { ...SAMPLES.suspended, cause: "hold", reason: "abuse report" },
      links,
    );
    expect(hold.text).toContain("our operators put it on hold (abuse report)");
    expect(hold.text).not.toContain("/billing");
  });

  test("quota warnings at 80 % and at the limit", () => {
    expect(renderMail("quota_warning", SAMPLES.quota_warning, links).subject).toBe(
      "Your MindRoom has used 80 % of its storage",
    );
    const full = renderMail("quota_warning", { ...SAMPLES.quota_warning, percent: 100 }, links);
    expect(full.subject).toBe("Your MindRoom has reached its storage limit");
    expect(full.text).toContain("https://portal.example.com/usage");
  });
});

describe("bad input", () => {
  test("HTML escapes every value", () => {
    const mail = renderMail(
      "suspended",
      { ...SAMPLES.suspended, name: `<script>alert("x")</script>`, cause: "hold", reason: "a & b <c>" },
      links,
    );
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(mail.html).toContain("a &amp; b &lt;c&gt;");
  });

  test("facts that do not fit are refused, naming the field", () => {
    expect(() => renderMail("deletion_scheduled", { ...base, at: "2026-12-07T12:00:00Z" }, links)).toThrow(
      /deletionDueAt/,
    );
    expect(() =>
      renderMail("welcome", { ...SAMPLES.welcome, urls: { app: "javascript:alert(1)" } }, links),
    ).toThrow(MailFactsError);
    expect(() => renderMail("nonsense", {}, links)).toThrow('no email is defined for kind "nonsense"');
  });
});
