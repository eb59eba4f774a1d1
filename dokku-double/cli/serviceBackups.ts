/**
 * Service backups: S3 credentials (`backup-auth`, which upstream creates with a
 * plain `mkdir`, so a second call fails), the cron schedule written through
 * sudo to `/etc/cron.d`, and `:backup` itself, which the double records instead
 * of uploading anything.
 */
import type { CommandHandler } from "./commands.ts";
import type { Ctx } from "./context.ts";
import { exitWith, fail } from "./errors.ts";
import { requireServiceName, type ServiceKind, serviceRoot, verifyService } from "./serviceKinds.ts";

function backupAuth(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const [
      service = "",
      accessKeyId = "",
      secretAccessKey = "",
      region = "",
      signatureVersion = "",
      endpointUrl = "",
    ] = args;
    requireServiceName(service);
    if (accessKeyId === "") fail("Please specify an aws access key id");
    if (secretAccessKey === "") fail("Please specify an aws secret access key");
    const state = verifyService(ctx, kind, service);
    if (state.backupAuth) {
      // Upstream's plain `mkdir` of the backup directory fails under `set -e`.
      ctx.out.stderrLine(
        `mkdir: cannot create directory '${serviceRoot(kind, service)}/backup': File exists`,
      );
      exitWith(1);
    }
    state.backupAuth = { accessKeyId, secretAccessKey, region, signatureVersion, endpointUrl };
  };
}

function backupDeauth(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const service = args[0] ?? "";
    requireServiceName(service);
    verifyService(ctx, kind, service).backupAuth = null;
  };
}

function backupSchedule(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const [service = "", schedule = "", bucket = "", useIam = ""] = args;
    requireServiceName(service);
    if (schedule === "") fail("Please specify a schedule for the backup");
    if (bucket === "") fail("Please specify an aws bucket for the backup");
    verifyService(ctx, kind, service);
    if (useIam !== "" && useIam !== "--use-iam" && useIam !== "-u")
      fail("Invalid flag provided, only '--use-iam' allowed");
    ctx.state.cronFiles[`dokku-${kind.prefix}-${service}`] =
      `${schedule} dokku /usr/bin/dokku ${kind.prefix}:backup ${service} ${bucket} ${useIam}\n`;
  };
}

function backupScheduleCat(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const service = args[0] ?? "";
    requireServiceName(service);
    verifyService(ctx, kind, service);
    const content = ctx.state.cronFiles[`dokku-${kind.prefix}-${service}`];
    if (content === undefined) fail(`There is no scheduled backup for ${service}.`);
    ctx.out.write("stdout", content);
  };
}

function backupUnschedule(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const service = args[0] ?? "";
    requireServiceName(service);
    verifyService(ctx, kind, service);
    delete ctx.state.cronFiles[`dokku-${kind.prefix}-${service}`];
  };
}

function backupSetEncryption(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const [service = "", passphrase = ""] = args;
    requireServiceName(service);
    if (passphrase === "") fail("Please specify a GPG passphrase");
    verifyService(ctx, kind, service).backupEncryptionKey = passphrase;
  };
}

function backup(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const [service = "", bucket = "", useIam = ""] = args;
    requireServiceName(service);
    if (bucket === "") fail("Please specify an aws bucket for the backup");
    const state = verifyService(ctx, kind, service);
    if (useIam === "") {
      if (!state.backupAuth) fail("Missing AWS_ACCESS_KEY_ID file");
    } else if (useIam !== "--use-iam" && useIam !== "-u") {
      fail("Provide AWS credentials or use the --use-iam flag");
    }
    if (state.status === "missing") fail("Service container does not exist");
    if (state.status !== "running") fail("Service container is not running");
    state.backups.push({ bucket, at: Math.floor(ctx.now() / 1000), useIam: useIam !== "" });
  };
}

export function backupCommands(kind: ServiceKind): Record<string, CommandHandler> {
  const p = kind.prefix;
  return {
    [`${p}:backup`]: backup(kind),
    [`${p}:backup-auth`]: backupAuth(kind),
    [`${p}:backup-deauth`]: backupDeauth(kind),
    [`${p}:backup-schedule`]: backupSchedule(kind),
    [`${p}:backup-schedule-cat`]: backupScheduleCat(kind),
    [`${p}:backup-unschedule`]: backupUnschedule(kind),
    [`${p}:backup-set-encryption`]: backupSetEncryption(kind),
  };
}
