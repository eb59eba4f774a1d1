/**
 * Service backups: S3 credentials as files in the service's `backup` folder
 * (`backup-auth`, which upstream creates with a plain `mkdir`, so a second call
 * fails; `backup-deauth` removes the folder), the cron schedule written through
 * sudo to `/etc/cron.d`, and `:backup` itself, which reads the credential files
 * like upstream and records the backup instead of uploading anything. The
 * files are real (in the instance's state folder), so whoever writes them, the
 * plugin or a root shell, the same `:backup` finds them.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import type { CommandHandler } from "./commands.ts";
import type { Ctx } from "./context.ts";
import { exitWith, fail } from "./errors.ts";
import { requireServiceName, type ServiceKind, serviceRoot, verifyService } from "./serviceKinds.ts";

/** The folder upstream keeps a service's backup credentials in. */
function backupDir(kind: ServiceKind, service: string): string {
  return `${serviceRoot(kind, service)}/backup`;
}

/** `echo "$VALUE" >"$SERVICE_BACKUP_ROOT/<NAME>"`. */
function writeCredential(dir: string, name: string, value: string): void {
  writeFileSync(`${dir}/${name}`, `${value}\n`);
}

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
    verifyService(ctx, kind, service);
    const dir = backupDir(kind, service);
    if (existsSync(dir)) {
      // Upstream's plain `mkdir` of the backup directory fails under `set -e`.
      ctx.out.stderrLine(`mkdir: cannot create directory '${dir}': File exists`);
      exitWith(1);
    }
    mkdirSync(serviceRoot(kind, service), { recursive: true });
    mkdirSync(dir);
    writeCredential(dir, "AWS_ACCESS_KEY_ID", accessKeyId);
    writeCredential(dir, "AWS_SECRET_ACCESS_KEY", secretAccessKey);
    if (region !== "") writeCredential(dir, "AWS_DEFAULT_REGION", region);
    if (signatureVersion !== "") writeCredential(dir, "AWS_SIGNATURE_VERSION", signatureVersion);
    if (endpointUrl !== "") writeCredential(dir, "ENDPOINT_URL", endpointUrl);
  };
}

function backupDeauth(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const service = args[0] ?? "";
    requireServiceName(service);
    verifyService(ctx, kind, service);
    rmSync(backupDir(kind, service), { recursive: true, force: true });
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
      const dir = backupDir(kind, service);
      if (!existsSync(`${dir}/AWS_ACCESS_KEY_ID`)) fail("Missing AWS_ACCESS_KEY_ID file");
      if (!existsSync(`${dir}/AWS_SECRET_ACCESS_KEY`)) fail("Missing AWS_SECRET_ACCESS_KEY file");
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
