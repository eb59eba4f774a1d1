/**
 * A customer's account on their tenant's homeserver, made by the portal's server (never the
 * browser: the registration secret must not leave the server, and the password only passes
 * through memory here, never stored or logged). Synapse: shared-secret registration
 * (`/_synapse/admin/v1/register`, HMAC-SHA1 over nonce, user, password and admin flag), and
 * password resets through its admin API as the platform's own admin account on that homeserver.
 * Tuwunel: registration with the tenant's registration token (the client API's
 * `m.login.registration_token` stage); it has no admin API for resets.
 */
import { createHmac } from "node:crypto";
import { reservedByBridges } from "../../../components/bridges.ts";
import { deriveAccessSecret } from "../../../components/tenantSecrets.ts";

/** The platform's admin account on each homeserver, which performs password resets. */
export const PLATFORM_ADMIN_LOCALPART = "mindroom-platform";
const TIMEOUT_MS = 15_000;

/** A refusal the customer can act on; `field` names the form field at fault. */
export class MatrixAccountError extends Error {
  override readonly name = "MatrixAccountError";
  readonly field: "username" | "password" | undefined;
  constructor(message: string, field?: "username" | "password") {
    super(message);
    this.field = field;
  }
}

export interface Homeserver {
  readonly kind: "synapse" | "tuwunel";
  /** Where the portal reaches it (its client API). */
  readonly url: string;
  /** The Matrix server name (`@user:<serverName>`). */
  readonly serverName: string;
  readonly slug: string;
}

/** A localpart the customer may take: Matrix's grammar, and nothing the platform, agents or bridges use. */
export function parseUsername(raw: string): string {
  const username = raw.trim().toLowerCase().replace(/^@/, "");
  if (!/^[a-z0-9._=-]{2,40}$/.test(username))
    throw new MatrixAccountError(
      "Use 2 to 40 lowercase letters, digits, dots, hyphens, underscores or equals signs.",
      "username",
    );
  if (username.startsWith("mindroom") || username === PLATFORM_ADMIN_LOCALPART || reservedByBridges(username))
    throw new MatrixAccountError(
      "That name is reserved for your agents and bridges; choose another.",
      "username",
    );
  return username;
}

export function checkPassword(password: string): void {
  if (password.length < 12 || password.length > 256)
    throw new MatrixAccountError("Use a password of 12 to 256 characters.", "password");
}

async function call(
  url: string,
  init: { method?: string; body?: unknown; token?: string },
): Promise<{ status: number; body: Record<string, unknown> }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: {
        "content-type": "application/json",
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    throw new MatrixAccountError("Your homeserver did not answer. Try again in a minute.");
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  return { status: response.status, body };
}

function refused(what: string, answer: { status: number; body: Record<string, unknown> }): never {
  if (answer.body.errcode === "M_USER_IN_USE")
    throw new MatrixAccountError("That username is taken on your homeserver; choose another.", "username");
  if (answer.body.errcode === "M_WEAK_PASSWORD")
    throw new MatrixAccountError(
      "Your homeserver finds that password too weak; choose a stronger one.",
      "password",
    );
  // The homeserver's own words help support; they never hold the password.
  throw new MatrixAccountError(
    `${what} failed (${answer.status} ${String(answer.body.errcode ?? "")}).`.trim(),
  );
}

/** Synapse's shared-secret registration; returns the new account's Matrix ID. */
async function synapseRegister(
  server: Homeserver,
  secret: string,
  account: { username: string; password: string; admin: boolean },
): Promise<string> {
  const endpoint = `${server.url}/_synapse/admin/v1/register`;
  const nonceAnswer = await call(endpoint, {});
  const nonce = nonceAnswer.body.nonce;
  if (typeof nonce !== "string") refused("Registration", nonceAnswer);
  const mac = createHmac("sha1", secret)
    .update(`${nonce}\0${account.username}\0${account.password}\0${account.admin ? "admin" : "notadmin"}`)
    .digest("hex");
  const answer = await call(endpoint, {
    body: { nonce, username: account.username, password: account.password, admin: account.admin, mac },
  });
  if (answer.status !== 200 || typeof answer.body.user_id !== "string") refused("Registration", answer);
  return answer.body.user_id;
}

/** Registration with a registration token (the client API's user-interactive flow). */
async function tokenRegister(
  server: Homeserver,
  token: string,
  account: { username: string; password: string },
) {
  const endpoint = `${server.url}/_matrix/client/v3/register`;
  const request = { username: account.username, password: account.password, inhibit_login: true };
  const first = await call(endpoint, { body: request });
  if (first.status === 200 && typeof first.body.user_id === "string") return first.body.user_id;
  const session = first.body.session;
  if (first.status !== 401 || typeof session !== "string") refused("Registration", first);
  const answer = await call(endpoint, {
    body: { ...request, auth: { type: "m.login.registration_token", token, session } },
  });
  if (answer.status !== 200 || typeof answer.body.user_id !== "string") refused("Registration", answer);
  return answer.body.user_id;
}

/** Creates the customer's account; the password is used for this call only. */
export async function registerAccount(
  server: Homeserver,
  accessKey: string,
  account: { readonly username: string; readonly password: string },
): Promise<string> {
  const username = parseUsername(account.username);
  checkPassword(account.password);
  const secret = deriveAccessSecret(accessKey, server.slug, "matrix-registration");
  return server.kind === "synapse"
    ? synapseRegister(server, secret, { username, password: account.password, admin: false })
    : tokenRegister(server, secret, { username, password: account.password });
}

/** An access token of the platform's admin account on this homeserver (made on first use). */
async function adminToken(server: Homeserver, accessKey: string): Promise<string> {
  const password = deriveAccessSecret(accessKey, server.slug, "matrix-admin");
  const secret = deriveAccessSecret(accessKey, server.slug, "matrix-registration");
  try {
    await synapseRegister(server, secret, { username: PLATFORM_ADMIN_LOCALPART, password, admin: true });
  } catch (error) {
    if (!(error instanceof MatrixAccountError && error.field === "username")) throw error;
  }
  const login = await call(`${server.url}/_matrix/client/v3/login`, {
    body: {
      type: "m.login.password",
      identifier: { type: "m.id.user", user: PLATFORM_ADMIN_LOCALPART },
      password,
      device_id: "MINDROOM_PLATFORM",
      initial_device_display_name: "MindRoom Cloud (password resets)",
    },
  });
  if (login.status !== 200 || typeof login.body.access_token !== "string")
    refused("Signing in as the platform", login);
  return login.body.access_token;
}

/** Sets a new password for the customer's account (Synapse's admin API) and signs its sessions out. */
export async function resetPassword(
  server: Homeserver,
  accessKey: string,
  matrixUserId: string,
  newPassword: string,
): Promise<void> {
  checkPassword(newPassword);
  if (server.kind !== "synapse")
    throw new MatrixAccountError(
      "Password resets from the portal need a Synapse homeserver; on yours, change it in your Matrix client while signed in.",
    );
  const token = await adminToken(server, accessKey);
  try {
    const answer = await call(
      `${server.url}/_synapse/admin/v1/reset_password/${encodeURIComponent(matrixUserId)}`,
      {
        body: { new_password: newPassword, logout_devices: true },
        token,
      },
    );
    if (answer.status !== 200) refused("The password reset", answer);
  } finally {
    await call(`${server.url}/_matrix/client/v3/logout`, { body: {}, token }).catch(() => undefined);
  }
}
