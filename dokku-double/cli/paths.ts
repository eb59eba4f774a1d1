/**
 * Paths a real Dokku host reports (`apps:report --app-dir`, `storage:info`,
 * `postgres:info --data-dir`, …). The double stores nothing there; the strings
 * only appear in output so that clients parsing them see familiar values.
 */
export const DOKKU_ROOT = "/home/dokku";
export const DOKKU_LIB_ROOT = "/var/lib/dokku";
export const DOKKU_VERSION = "0.38.27";
