import { describe, expect, it } from "vitest";
import { NoBackupError, parseBackupKey, restorePoint, serviceDumpKey, storageKey } from "./layout.ts";

const at = new Date("2026-12-04T18:00:07Z");
const object = (key: string, size = 10) => ({ key, size, lastModified: new Date("2026-12-05T00:00:00Z") });

describe("backup names", () => {
  it("names a storage archive as the backup job does, and a dump by service and time", () => {
    expect(storageKey("acme", at)).toBe("tenants/acme/storage/storage-2026-12-04T18-00-07.tar.gz.gpg");
    expect(serviceDumpKey("acme", "postgres", "pg-acme", at)).toBe(
      "tenants/acme/postgres/postgres-pg-acme-2026-12-04-18-00-07.dump.gpg",
    );
  });

  it("reads back what it writes, the backup job's archives and the service plugins' tgz", () => {
    expect(parseBackupKey("acme", object(storageKey("acme", at), 99))).toEqual({
      key: storageKey("acme", at),
      kind: "storage",
      takenAt: at,
      size: 99,
      format: "tar.gz",
      encrypted: true,
    });
    expect(
      parseBackupKey("acme", object("tenants/acme/storage/storage-2026-12-04T12-00-00.tar.gz")),
    ).toMatchObject({
      kind: "storage",
      encrypted: false,
      takenAt: new Date("2026-12-04T12:00:00Z"),
    });
    expect(
      parseBackupKey("acme", object("tenants/acme/redis/redis-redis-acme-2026-12-04-12-00-01.tgz")),
    ).toMatchObject({ kind: "redis", service: "redis-acme", format: "tgz", encrypted: false });
    expect(parseBackupKey("acme", object(serviceDumpKey("acme", "postgres", "pg-acme", at)))).toMatchObject({
      kind: "postgres",
      service: "pg-acme",
      format: "dump",
      encrypted: true,
    });
  });

  it("ignores what is not one of the tenant's backups", () => {
    for (const key of [
      "tenants/acme2/storage/storage-2026-12-04T18-00-07.tar.gz",
      "tenants/acme/storage/notes.txt",
      "tenants/acme/postgres/redis-x-2026-12-04-12-00-01.tgz",
      "tenants/acme/storage/nested/storage-2026-12-04T18-00-07.tar.gz",
      "tenants/acme/mysql/mysql-x-2026-12-04-12-00-01.tgz",
    ])
      expect(parseBackupKey("acme", object(key)), key).toBeUndefined();
  });
});

describe("the restore point", () => {
  const t = (iso: string) => new Date(iso);
  const backups = [
    { key: "s1", kind: "storage", takenAt: t("2026-12-04T00:00:00Z") },
    { key: "p1", kind: "postgres", service: "pg", takenAt: t("2026-12-04T00:00:05Z") },
    { key: "s2", kind: "storage", takenAt: t("2026-12-04T06:00:00Z") },
    { key: "p2", kind: "postgres", service: "pg", takenAt: t("2026-12-04T06:00:04Z") },
    { key: "r2", kind: "redis", service: "rd", takenAt: t("2026-12-04T06:00:03Z") },
  ].map((b) => ({ size: 1, format: "dump" as const, encrypted: true, ...b })) as Parameters<
    typeof restorePoint
  >[1];

  it("takes the newest of each part by default", () => {
    const point = restorePoint("acme", backups);
    expect([point.storage.key, ...point.services.map((s) => s.key)]).toEqual(["s2", "p2", "r2"]);
  });

  it("takes the newest of each part at or before --at", () => {
    const point = restorePoint("acme", backups, t("2026-12-04T05:59:59Z"));
    expect([point.storage.key, ...point.services.map((s) => s.key)]).toEqual(["s1", "p1"]);
  });

  it("refuses when there is no storage backup to restore, saying what there is", () => {
    expect(() => restorePoint("acme", [])).toThrow(
      new NoBackupError("tenant acme has no backups (mindroom-ops backup acme takes one)"),
    );
    expect(() => restorePoint("acme", backups, t("2026-12-03T00:00:00Z"))).toThrow(
      "tenant acme has no storage backup at or before 2026-12-03T00:00:00.000Z: the oldest is from 2026-12-04T00:00:00.000Z",
    );
  });
});
