/**
 * Mail configuration: local defaults, the ecosystem's names, clear errors
 * that never echo a password, and no defaults in production.
 */
import { describe, expect, test } from "vitest";
import { loadMailSettings, MailSettingsError, senderAddress } from "./settings.ts";

describe("loadMailSettings", () => {
  test("unset: the local Mailpit, a sender on the base domain, the local portal", () => {
    const s = loadMailSettings({ MINDROOM_DATA_DIR: "/data" }, "/repo");
    expect(s).toEqual({
      smtpUrl: undefined,
      from: "MindRoom <no-reply@mindroom.test>",
      fromDomain: "mindroom.test",
      portalUrl: "http://127.0.0.1:3000",
      dataDir: "/data",
    });
    expect(loadMailSettings({ MINDROOM_BASE_DOMAIN: "example.org", PORT: "3100" }, "/repo")).toMatchObject({
      from: "MindRoom <no-reply@example.org>",
      portalUrl: "http://127.0.0.1:3100",
      dataDir: "/repo/.data",
    });
  });

  test("set: SMTP_URL (smtp or smtps), MAIL_FROM (named or bare), PORTAL_PUBLIC_URL without a trailing slash", () => {
    const s = loadMailSettings({
      SMTP_URL: "smtps://user:p%40ss@smtp.example.com:465",
      MAIL_FROM: "Cloud Team <team@mail.example.com>",
      PORTAL_PUBLIC_URL: "https://app.example.com/",
    });
    expect(s).toMatchObject({
      smtpUrl: "smtps://user:p%40ss@smtp.example.com:465",
      from: "Cloud Team <team@mail.example.com>",
      fromDomain: "mail.example.com",
      portalUrl: "https://app.example.com",
    });
    expect(loadMailSettings({ MAIL_FROM: "ops@example.com" }).fromDomain).toBe("example.com");
  });

  test("bad values are named, all at once, and a bad SMTP_URL is not echoed", () => {
    let error: Error | undefined;
    try {
      loadMailSettings({
        SMTP_URL: "http://user:hunter2@x",
        MAIL_FROM: "nobody",
        PORTAL_PUBLIC_URL: "ftp://x",
      });
    } catch (e) {
      error = e as Error;
    }
    expect(error).toBeInstanceOf(MailSettingsError);
    expect(error?.message).toContain("SMTP_URL must be smtp://");
    expect(error?.message).toContain("MAIL_FROM must be an address");
    expect(error?.message).toContain("PORTAL_PUBLIC_URL must be an http(s) URL");
    expect(error?.message).not.toContain("hunter2");
    // A header injection through the sender's name.
    expect(() => loadMailSettings({ MAIL_FROM: "Evil\r\nBcc: x@y.z <a@b.c>" })).toThrow(/MAIL_FROM/);
  });

  test("production has no mail defaults", () => {
    expect(() => loadMailSettings({ MINDROOM_ENVIRONMENT: "production" })).toThrow(
      "MINDROOM_ENVIRONMENT=production needs SMTP_URL, MAIL_FROM, PORTAL_PUBLIC_URL set",
    );
    expect(
      loadMailSettings({
        MINDROOM_ENVIRONMENT: "production",
        SMTP_URL: "smtp://smtp.example.com:587",
        MAIL_FROM: "no-reply@example.com",
        PORTAL_PUBLIC_URL: "https://app.example.com",
      }).smtpUrl,
    ).toBe("smtp://smtp.example.com:587");
  });
});

test("senderAddress", () => {
  expect(senderAddress("MindRoom <a@b.co>")).toBe("a@b.co");
  expect(senderAddress(" a@b.co ")).toBe("a@b.co");
  expect(senderAddress("a@b")).toBeUndefined();
  expect(senderAddress("<a@b.co> trailing")).toBeUndefined();
});
