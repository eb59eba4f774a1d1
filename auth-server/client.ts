/**
 * Server-side client for the local identity server's public API (Kratos API
 * flows, through the gateway's `/auth/v1`): sign up and sign in with a
 * password, sign in with an emailed code or magic link, change the password
 * of a recent session, read the user of a session, mint the Supabase-shaped
 * access token, sign out. Session tokens are
 * secrets: keep them in httpOnly cookies, never log them.
 */
import { z } from "zod";
import { SUPABASE_TOKEN_TEMPLATE } from "./kratosConfig.ts";

export class AuthClientError extends Error {
  override readonly name = "AuthClientError";
  readonly status: number;
  /** Kratos message ids (e.g. 4000006 wrong credentials, 4000007 account exists, 4010008 wrong code). */
  readonly messageIds: readonly number[];
  /** Kratos's error id, when it answered with an error rather than a flow (e.g. session_refresh_required). */
  readonly errorId: string | undefined;
  constructor(message: string, status: number, messageIds: readonly number[] = [], errorId?: string) {
    super(message);
    this.status = status;
    this.messageIds = messageIds;
    this.errorId = errorId;
  }
}

const uiMessage = z.object({ id: z.number(), text: z.string(), type: z.string() });
const flowSchema = z.object({
  id: z.string(),
  state: z.string().optional(),
  ui: z.object({
    messages: z.array(uiMessage).optional(),
    nodes: z.array(z.object({ messages: z.array(uiMessage).optional() })).default([]),
  }),
});
const identitySchema = z.object({
  id: z.uuid(),
  traits: z.object({ email: z.string() }),
  created_at: z.string().optional(),
});
const sessionSchema = z.object({
  id: z.string(),
  active: z.boolean(),
  expires_at: z.string(),
  identity: identitySchema,
  tokenized: z.string().optional(),
});
const signedInSchema = z.object({ session_token: z.string(), session: sessionSchema });
const errorSchema = z.object({
  error: z.object({
    id: z.string().optional(),
    code: z.number().optional(),
    message: z.string(),
    reason: z.string().optional(),
  }),
});

export type AuthUser = z.infer<typeof identitySchema>;
export type AuthSession = z.infer<typeof sessionSchema>;
export interface SignedIn {
  /** Opaque session token: send it as `X-Session-Token`. */
  readonly sessionToken: string;
  readonly session: AuthSession;
}

export interface AuthClientOptions {
  /** `<SUPABASE_URL>/auth/v1` locally. */
  readonly authUrl: string;
}

function flowMessages(body: unknown): { text: string; ids: number[] } {
  const flow = flowSchema.safeParse(body);
  if (flow.success) {
    const messages = [
      ...(flow.data.ui.messages ?? []),
      ...flow.data.ui.nodes.flatMap((node) => node.messages ?? []),
    ];
    const errors = messages.filter((message) => message.type === "error");
    const shown = errors.length > 0 ? errors : messages;
    return { text: shown.map((message) => message.text).join("; "), ids: shown.map((message) => message.id) };
  }
  const error = errorSchema.safeParse(body);
  if (error.success) return { text: error.data.error.reason ?? error.data.error.message, ids: [] };
  return { text: "unexpected answer", ids: [] };
}

/** Emails compared and stored lower-cased and trimmed, as Supabase Auth does. */
function normalisedEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class AuthClient {
  readonly #base: string;

  constructor(options: AuthClientOptions) {
    this.#base = options.authUrl.replace(/\/$/, "");
  }

  async #call(path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
    const answer = await fetch(`${this.#base}${path}`, {
      ...init,
      headers: { accept: "application/json", "content-type": "application/json", ...init.headers },
    });
    const text = await answer.text();
    return { status: answer.status, body: text ? JSON.parse(text) : undefined };
  }

  async #newFlow(kind: "registration" | "login"): Promise<string> {
    const { status, body } = await this.#call(`/self-service/${kind}/api`);
    if (status !== 200) throw new AuthClientError(`starting a ${kind}: ${flowMessages(body).text}`, status);
    return flowSchema.parse(body).id;
  }

  async #submit(kind: "registration" | "login", flowId: string, payload: object) {
    return this.#call(`/self-service/${kind}?flow=${encodeURIComponent(flowId)}`, {
      method: "POST",
      body: JSON.stringify(payload),
    });
  }

  #signedIn(what: string, answer: { status: number; body: unknown }): SignedIn {
    if (answer.status !== 200) throw this.#refused(what, answer);
    const parsed = signedInSchema.parse(answer.body);
    return { sessionToken: parsed.session_token, session: parsed.session };
  }

  /** Creates the account and signs it in (email autoconfirm). */
  async signUp(email: string, password: string): Promise<SignedIn> {
    const flow = await this.#newFlow("registration");
    const answer = await this.#submit("registration", flow, {
      method: "password",
      password,
      traits: { email: normalisedEmail(email) },
    });
    return this.#signedIn("sign-up", answer);
  }

  async signInWithPassword(email: string, password: string): Promise<SignedIn> {
    const flow = await this.#newFlow("login");
    const answer = await this.#submit("login", flow, {
      method: "password",
      identifier: normalisedEmail(email),
      password,
    });
    return this.#signedIn("sign-in", answer);
  }

  /**
   * Emails a one-time sign-in code. With `magicLink`, the email also holds a
   * link: `magicLink(flowId)` followed directly by the code, e.g.
   * `https://portal/auth/confirm?flow=<id>&code=` → `…&code=123456`.
   * Returns the flow id the code is redeemed against.
   */
  async sendSignInCode(email: string, magicLink?: (flowId: string) => string): Promise<string> {
    const flow = await this.#newFlow("login");
    const payload = {
      method: "code",
      identifier: normalisedEmail(email),
      ...(magicLink ? { transient_payload: { magic_link: magicLink(flow) } } : {}),
    };
    const answer = await this.#submit("login", flow, payload);
    const state = flowSchema.safeParse(answer.body);
    if (state.success && state.data.state === "sent_email") return flow;
    const { text, ids } = flowMessages(answer.body);
    throw new AuthClientError(`sending a sign-in code failed: ${text}`, answer.status, ids);
  }

  /** Redeems the emailed code (typed in, or taken from the magic link) for a session. */
  async signInWithCode(flowId: string, email: string, code: string): Promise<SignedIn> {
    const answer = await this.#submit("login", flowId, {
      method: "code",
      identifier: normalisedEmail(email),
      code,
    });
    return this.#signedIn("sign-in with code", answer);
  }

  /**
   * Sets a new password for the session's identity (Kratos's settings flow, password method). Kratos
   * allows it only within `privileged_session_max_age` of signing in: otherwise it refuses with
   * error id `session_refresh_required` (status 403), and the person must sign in again first.
   */
  async changePassword(sessionToken: string, password: string): Promise<void> {
    const headers = { "x-session-token": sessionToken };
    const started = await this.#call("/self-service/settings/api", { headers });
    if (started.status !== 200) throw this.#refused("starting a password change", started);
    const flow = flowSchema.parse(started.body).id;
    const answer = await this.#call(`/self-service/settings?flow=${encodeURIComponent(flow)}`, {
      method: "POST",
      headers,
      body: JSON.stringify({ method: "password", password }),
    });
    // A 200 carries the flow; only its `success` state means the password was saved.
    if (answer.status !== 200 || flowSchema.safeParse(answer.body).data?.state !== "success")
      throw this.#refused("changing the password", answer);
  }

  #refused(what: string, answer: { status: number; body: unknown }): AuthClientError {
    const { text, ids } = flowMessages(answer.body);
    const error = errorSchema.safeParse(answer.body);
    return new AuthClientError(`${what} failed: ${text}`, answer.status, ids, error.data?.error.id);
  }

  /** The session behind a token, verified by the server; undefined when it is invalid or expired. */
  async getSession(sessionToken: string): Promise<AuthSession | undefined> {
    const { status, body } = await this.#call("/sessions/whoami", {
      headers: { "x-session-token": sessionToken },
    });
    if (status === 401 || status === 403) return undefined;
    if (status !== 200) throw new AuthClientError(`reading the session: ${flowMessages(body).text}`, status);
    return sessionSchema.parse(body);
  }

  /** The signed-in user, verified by the server (like supabase-js `getUser()`). */
  async getUser(sessionToken: string): Promise<AuthUser | undefined> {
    return (await this.getSession(sessionToken))?.identity;
  }

  /** A fresh HS256 access token with Supabase's claims (`sub`, `role`, `aud`, `email`) for this session. */
  async accessToken(sessionToken: string): Promise<string> {
    const { status, body } = await this.#call(`/sessions/whoami?tokenize_as=${SUPABASE_TOKEN_TEMPLATE}`, {
      headers: { "x-session-token": sessionToken },
    });
    if (status !== 200)
      throw new AuthClientError(`minting an access token: ${flowMessages(body).text}`, status);
    const token = sessionSchema.parse(body).tokenized;
    if (!token)
      throw new AuthClientError("the identity server returned no token (tokenizer not configured)", 500);
    return token;
  }

  /** Revokes the session. */
  async signOut(sessionToken: string): Promise<void> {
    const { status, body } = await this.#call("/self-service/logout/api", {
      method: "DELETE",
      body: JSON.stringify({ session_token: sessionToken }),
    });
    if (status !== 204 && status !== 200)
      throw new AuthClientError(`signing out: ${flowMessages(body).text}`, status);
  }
}
