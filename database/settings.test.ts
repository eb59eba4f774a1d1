import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { DatabaseSettingsError, loadDatabaseSettings } from "./settings.ts";

describe("loadDatabaseSettings", () => {
  it("uses DATABASE_URL when set, and the embedded default in the data folder otherwise", () => {
    expect(loadDatabaseSettings({ DATABASE_URL: "postgres://u:p@db.example.com:5432/app" }, "/srv")).toEqual({
      databaseUrl: "postgres://u:p@db.example.com:5432/app",
      dataDir: resolve("/srv", ".data"),
    });
    expect(
      loadDatabaseSettings({ MINDROOM_DATA_DIR: "/var/lib/mindroom", DATABASE_URL: " " }, "/srv"),
    ).toEqual({
      databaseUrl: undefined,
      dataDir: "/var/lib/mindroom",
    });
  });

  it("refuses a URL that is not postgres:// without echoing it (it may hold a password)", () => {
    const attempt = () => loadDatabaseSettings({ DATABASE_URL: "mysql://root:s3cret@host/db" });
    expect(attempt).toThrow(DatabaseSettingsError);
    expect(attempt).toThrow(/DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(attempt).not.toThrow(/s3cret/);
  });
});
