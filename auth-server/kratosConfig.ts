/**
 * The identity server's configuration for local use, as pure data: Ory Kratos
 * with email + password sign-up and sign-in, passwordless sign-in by an
 * emailed one-time code (whose email also carries a magic link when the client
 * asks for one), sessions that can be turned into HS256 JWTs with Supabase's
 * claims (`sub`, `role: authenticated`, `aud: authenticated`, `email`), and a
 * courier that sends mail over SMTP to the local sink.
 */

/** The sender of the auth server's own mail (sign-in codes, recovery links). */
export const COURIER_FROM = "no-reply@mindroom.local";

/** The tokenizer template that mints Supabase-shaped access tokens. */
export const SUPABASE_TOKEN_TEMPLATE = "supabase";
/** How long an access token lives (Supabase's default `jwt_expiry`). */
export const ACCESS_TOKEN_TTL = "1h";

export interface KratosConfigInput {
  /** Where browsers and clients reach the public API: the gateway's `/auth/v1/`. */
  readonly publicBaseUrl: string;
  readonly publicPort: number;
  readonly adminPort: number;
  /** The application (portal) URL: default return target and the UI pages. */
  readonly siteUrl: string;
  readonly smtpUrl: string;
  /** `file://` URLs of the files written beside the config. */
  readonly identitySchemaUrl: string;
  readonly jwksUrl: string;
  /** Secrets for cookies (≥ 16 chars) and the cipher (exactly 32 chars). */
  readonly cookieSecret: string;
  readonly cipherSecret: string;
  /**
   * How long after signing in a session may change the password (Kratos duration, default `15m`);
   * tests shorten it to see an older session refused.
   */
  readonly privilegedSessionMaxAge?: string;
}

/** Identity traits: one email that is the password identifier and the code (magic link) address. */
export const identitySchema = {
  $id: "https://mindroom.cloud/schemas/identity.schema.json",
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "MindRoom customer",
  type: "object",
  properties: {
    traits: {
      type: "object",
      properties: {
        email: {
          type: "string",
          format: "email",
          title: "Email",
          minLength: 3,
          maxLength: 320,
          "ory.sh/kratos": {
            credentials: { password: { identifier: true }, code: { identifier: true, via: "email" } },
            verification: { via: "email" },
            recovery: { via: "email" },
          },
        },
      },
      required: ["email"],
      additionalProperties: false,
    },
  },
} as const;

/**
 * Jsonnet claims mapper: Kratos' standard claims plus what Supabase's tokens
 * carry and what `auth.uid()`/`auth.role()`/`auth.email()` read.
 */
export const claimsMapper = `local claims = std.extVar('claims');
local session = std.extVar('session');
{
  claims: claims + {
    // Supabase's issuer is '<SUPABASE_URL>/auth/v1', without the slash Kratos' base URL has.
    iss: std.rstripChars(claims.iss, '/'),
    aud: 'authenticated',
    role: 'authenticated',
    email: session.identity.traits.email,
    session_id: session.id,
    aal: session.authenticator_assurance_level,
    amr: [{ method: m.method, timestamp: m.completed_at } for m in session.authentication_methods],
    app_metadata: { provider: 'email' },
    user_metadata: {},
  },
}
`;

/** The sign-in email: the code, and a magic link when the client passed `transient_payload.magic_link`. */
const loginCodeText = `Your MindRoom sign-in code is {{ .LoginCode }}
{{ with .TransientPayload }}{{ with .magic_link }}
Or open this link to sign in: {{ . }}{{ $.LoginCode }}
{{ end }}{{ end }}
If you did not ask to sign in, you can ignore this email.
`;
const loginCodeHtml = `<p>Your MindRoom sign-in code is <strong>{{ .LoginCode }}</strong></p>
{{ with .TransientPayload }}{{ with .magic_link }}<p><a href="{{ . }}{{ $.LoginCode }}">Sign in to MindRoom</a></p>{{ end }}{{ end }}
<p>If you did not ask to sign in, you can ignore this email.</p>
`;

function base64Url(text: string): string {
  return `base64://${Buffer.from(text, "utf8").toString("base64")}`;
}

export function kratosConfig(input: KratosConfigInput): Record<string, unknown> {
  const site = input.siteUrl.replace(/\/$/, "");
  return {
    // No `dsn`: Kratos reads it from its environment (DSN), so the password stays out of files.
    version: "v1.3.1",
    serve: {
      public: {
        base_url: input.publicBaseUrl,
        host: "127.0.0.1",
        port: input.publicPort,
        cors: { enabled: false },
      },
      admin: { base_url: `http://127.0.0.1:${input.adminPort}/`, host: "127.0.0.1", port: input.adminPort },
    },
    selfservice: {
      default_browser_return_url: `${site}/`,
      allowed_return_urls: [`${site}/`],
      methods: {
        password: { enabled: true, config: { haveibeenpwned_enabled: false, min_password_length: 8 } },
        code: { enabled: true, passwordless_enabled: true, config: { lifespan: "15m" } },
        link: { enabled: false },
      },
      flows: {
        error: { ui_url: `${site}/auth/error` },
        settings: {
          ui_url: `${site}/account`,
          privileged_session_max_age: input.privilegedSessionMaxAge ?? "15m",
          // A new password signs out every other session (a stolen cookie stops working).
          after: { password: { hooks: [{ hook: "revoke_active_sessions" }] } },
        },
        recovery: { enabled: true, use: "code", ui_url: `${site}/auth/recovery` },
        // Email autoconfirm, as the local Supabase setup does: no verification step before sign-in.
        verification: { enabled: false },
        logout: { after: { default_browser_return_url: `${site}/login` } },
        login: { ui_url: `${site}/login`, lifespan: "15m" },
        registration: {
          lifespan: "15m",
          ui_url: `${site}/signup`,
          // A session right after sign-up, as GoTrue returns one with autoconfirm.
          after: { password: { hooks: [{ hook: "session" }] }, code: { hooks: [{ hook: "session" }] } },
        },
      },
    },
    session: {
      lifespan: "720h",
      whoami: {
        tokenizer: {
          templates: {
            [SUPABASE_TOKEN_TEMPLATE]: {
              ttl: ACCESS_TOKEN_TTL,
              jwks_url: input.jwksUrl,
              claims_mapper_url: base64Url(claimsMapper),
            },
          },
        },
      },
    },
    identity: { default_schema_id: "default", schemas: [{ id: "default", url: input.identitySchemaUrl }] },
    courier: {
      smtp: { connection_uri: input.smtpUrl, from_address: COURIER_FROM, from_name: "MindRoom" },
      templates: {
        login_code: {
          valid: {
            email: {
              subject: base64Url("Your MindRoom sign-in code"),
              body: { plaintext: base64Url(loginCodeText), html: base64Url(loginCodeHtml) },
            },
          },
        },
      },
    },
    secrets: { cookie: [input.cookieSecret], cipher: [input.cipherSecret] },
    ciphers: { algorithm: "xchacha20-poly1305" },
    hashers: { algorithm: "bcrypt", bcrypt: { cost: 10 } },
    log: { level: "warning", format: "json", leak_sensitive_values: false },
  };
}
