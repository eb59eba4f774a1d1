import { describe, expect, it } from "vitest";
import { PRODUCTION_SERVICES, PRODUCTION_SHAPED } from "../testing/productionConfig.ts";
import { productionProblems } from "./productionCheck.ts";

const variable = (problem: string) => /^[A-Z][A-Z0-9_]+/.exec(problem)?.[0];
const installed = () => true;
const notInstalled = () => false;

describe("the production check", () => {
  it("refuses every local default at once, one line per variable, each saying what to do", () => {
    const problems = productionProblems({ MINDROOM_ENVIRONMENT: "production" }, notInstalled);
    expect(problems.map(variable)).toEqual([
      "MINDROOM_ROOT_SECRET",
      "PULUMI_BACKEND_URL",
      "PULUMI_SECRETS_PROVIDER",
      "DOKKU_SSH_KEY",
      "MINDROOM_BASE_DOMAIN",
      "DATABASE_URL",
      "STRIPE_SECRET_KEY",
      "STRIPE_WEBHOOK_SECRET",
      "STRIPE_PRICE_TIERS",
      ...PRODUCTION_SERVICES,
      "PORTAL_PUBLIC_URL",
      "SMTP_URL",
      "MAIL_FROM",
      undefined, // the provider plugins
    ]);
    expect(problems.at(-1)).toMatch(
      /^the aws v7\.48\.0 and cloudflare v6\.22\.1 provider plugins are not installed .*: run \.\/platform setup --providers, or PULUMI_HOME=\S+ \S+\/pulumi plugin install resource aws 7\.48\.0 && PULUMI_HOME=\S+ \S+\/pulumi plugin install resource cloudflare 6\.22\.1$/,
    );
    for (const problem of problems) expect(problem, problem).toMatch(/: \S/);
  });

  it("passes a production-shaped configuration", () => {
    expect(productionProblems(PRODUCTION_SHAPED, installed)).toEqual([]);
    // A passphrase set explicitly (not generated) is accepted too.
    const { PULUMI_SECRETS_PROVIDER: _, ...passphrase } = PRODUCTION_SHAPED;
    expect(
      productionProblems({ ...passphrase, PULUMI_CONFIG_PASSPHRASE_FILE: "/run/secrets/pp" }, installed),
    ).toEqual([]);
  });

  it.each([
    ["STRIPE_SECRET_KEY", "sk_test_abc", /test key/],
    ["STRIPE_PRICE_TIERS", "price_mindroom_starter=starter", /local test prices/],
    ["PULUMI_BACKEND_URL", "file:///var/lib/state", /a file backend/],
    ["MINDROOM_POLICIES", "off", /policy pack/],
    ["MINDROOM_ROOT_SECRET", "short", /shorter than 32/],
    ["MINDROOM_BASE_DOMAIN", "mindroom.test", /does not resolve/],
    ["PORTAL_PUBLIC_URL", "http://app.mindroom.chat", /not https/],
    ["PORTAL_COOKIE_SECURE", "false", /Secure/],
    ["MINDROOM_AUTH_PROVIDER", "local", /local auth server/],
    ["SMTP_URL", "", /local Mailpit/],
  ])("refuses %s=%s", (name, value, message) => {
    const problems = productionProblems({ ...PRODUCTION_SHAPED, [name]: value }, installed);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });
});
