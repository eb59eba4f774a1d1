/**
 * Every configuration key of the control plane, in one table: what it means,
 * whether it is a secret, and what unset means. `.env.example` is generated
 * from it (and a test keeps the committed file equal), `mindroom-ops config
 * check` prints the effective value of each key and where it came from, and a
 * test checks that every key the settings modules read is listed here.
 */

export const CONFIG_GROUPS = [
  "Platform",
  "Secrets and Pulumi state",
  "Database",
  "Dokku hosts",
  "Tenants",
  "Stripe",
  "Sign-in and portal",
  "Mail",
  "Webhook service",
  "Worker",
] as const;
export type ConfigGroup = (typeof CONFIG_GROUPS)[number];

/** What an unset key turns into: a fixed default, a value generated into the data folder, or a stand-in. */
export type Unset =
  | { readonly kind: "default"; readonly value: string }
  | { readonly kind: "generated"; readonly file: string }
  | { readonly kind: "local"; readonly what: string }
  | { readonly kind: "none"; readonly what: string };

export interface ConfigKey {
  readonly name: string;
  readonly group: ConfigGroup;
  readonly description: string;
  /** Never printed: `config check` says only whether it is set. */
  readonly secret: boolean;
  /** A URL whose password part is masked when printed. */
  readonly credentialUrl?: boolean;
  readonly unset: Unset;
  /** A production-shaped value for `.env.example` (with `<…>`: a placeholder, written commented out). */
  readonly example: string;
}

const key = (k: ConfigKey) => k;
const def = (value: string): Unset => ({ kind: "default", value });
const local = (what: string): Unset => ({ kind: "local", what });
const none = (what: string): Unset => ({ kind: "none", what });

export const CONFIG_KEYS: readonly ConfigKey[] = [
  key({
    name: "MINDROOM_ENVIRONMENT",
    group: "Platform",
    description: "production, staging or test; production refuses every local default at start",
    secret: false,
    unset: def("test"),
    example: "production",
  }),
  key({
    name: "MINDROOM_SERVE_ONLY",
    group: "Platform",
    description:
      "webhooks or portal: ./platform serve runs only that part (one Dokku app per part, same image and Procfile)",
    secret: false,
    unset: def("both parts"),
    example: "",
  }),
  key({
    name: "MINDROOM_CONTROL_HOST",
    group: "Platform",
    description:
      "the Dokku host (added with mindroom-ops hosts add, then cordoned) the platform stack runs the control plane's apps on",
    secret: false,
    unset: none("no platform stack (mindroom-ops platform refuses)"),
    example: "ssh://root@control.mindroom.chat:22",
  }),
  key({
    name: "MINDROOM_CONTROL_IMAGE",
    group: "Platform",
    description:
      "the control plane's image (this repository's Dockerfile) the platform stack deploys, pinned by digest",
    secret: false,
    unset: none("no platform stack (mindroom-ops platform refuses)"),
    example: "<ghcr.io/your-org/mindroom-cloud@sha256:…>",
  }),
  key({
    name: "MINDROOM_BASE_DOMAIN",
    group: "Platform",
    description: "tenants get <slug>.<base>, <slug>.api.<base>, <slug>.matrix.<base>",
    secret: false,
    unset: def("mindroom.test"),
    example: "mindroom.chat",
  }),
  key({
    name: "MINDROOM_DATA_DIR",
    group: "Platform",
    description: "everything the embedded defaults keep (and the workers' scratch space)",
    secret: false,
    unset: def("./.data"),
    example: "/var/lib/mindroom",
  }),
  key({
    name: "MINDROOM_LOG_LEVEL",
    group: "Platform",
    description: "debug, info, warn or error",
    secret: false,
    unset: def("info"),
    example: "info",
  }),
  key({
    name: "MINDROOM_LOG_FORMAT",
    group: "Platform",
    description: "json or pretty (one line per event, for a terminal)",
    secret: false,
    unset: def("pretty when writing to a terminal, json otherwise"),
    example: "json",
  }),
  key({
    name: "MINDROOM_POLICIES",
    group: "Platform",
    description: "off disables the policy pack on previews and ups (diagnosis only; refused in production)",
    secret: false,
    unset: def("on"),
    example: "on",
  }),
  key({
    name: "MINDROOM_OPERATOR",
    group: "Platform",
    description: "the name operator CLIs write into the audit log (operator:<name>)",
    secret: false,
    unset: def("the login name"),
    example: "ops@mindroom.chat",
  }),
  key({
    name: "MINDROOM_ENV_FILE",
    group: "Platform",
    description: "the .env file read at start (variables already in the environment win)",
    secret: false,
    unset: def("./.env"),
    example: "/etc/mindroom/env",
  }),
  key({
    name: "MINDROOM_ROOT_SECRET",
    group: "Secrets and Pulumi state",
    description: "the secret every tenant secret derives from (openssl rand -hex 32); never change it",
    secret: true,
    unset: { kind: "generated", file: "root-secret" },
    example: "<64 hex characters from your secret store>",
  }),
  key({
    name: "PULUMI_BACKEND_URL",
    group: "Secrets and Pulumi state",
    description: "where tenant stacks keep their state: s3://bucket?region=…, or Pulumi Cloud",
    secret: false,
    unset: local("the data folder's object store (./platform start's MinIO), else a file backend there"),
    example: "s3://mindroom-state?region=eu-central-1",
  }),
  key({
    name: "PULUMI_SECRETS_PROVIDER",
    group: "Secrets and Pulumi state",
    description: "passphrase, or a KMS key URL (awskms://alias/mindroom-state?region=…)",
    secret: false,
    unset: def("passphrase"),
    example: "awskms://alias/mindroom-state?region=eu-central-1",
  }),
  key({
    name: "PULUMI_CONFIG_PASSPHRASE",
    group: "Secrets and Pulumi state",
    description: "the stack secrets' passphrase, when the secrets provider is passphrase",
    secret: true,
    unset: { kind: "generated", file: "pulumi-passphrase" },
    example: "",
  }),
  key({
    name: "PULUMI_CONFIG_PASSPHRASE_FILE",
    group: "Secrets and Pulumi state",
    description: "a file holding that passphrase, instead of the variable",
    secret: false,
    unset: none("PULUMI_CONFIG_PASSPHRASE is used"),
    example: "",
  }),
  key({
    name: "AWS_ACCESS_KEY_ID",
    group: "Secrets and Pulumi state",
    description:
      "object storage and AWS credentials (S3 state backend, backup bucket, KMS), as the AWS SDKs read them",
    secret: false,
    unset: none("the SDKs' other sources (instance role, profile)"),
    example: "AKIA…",
  }),
  key({
    name: "AWS_SECRET_ACCESS_KEY",
    group: "Secrets and Pulumi state",
    description: "the secret of that access key",
    secret: true,
    unset: none("the SDKs' other sources"),
    example: "<from your secret store>",
  }),
  key({
    name: "AWS_REGION",
    group: "Secrets and Pulumi state",
    description: "the AWS region (also the backups' region when MINDROOM_BACKUP_REGION is unset)",
    secret: false,
    unset: none("no region"),
    example: "eu-central-1",
  }),
  key({
    name: "AWS_ENDPOINT_URL_S3",
    group: "Secrets and Pulumi state",
    description: "an S3-compatible endpoint instead of AWS (MinIO, R2, …)",
    secret: false,
    unset: none("AWS S3"),
    example: "",
  }),
  key({
    name: "DATABASE_URL",
    group: "Database",
    description:
      "the platform Postgres (Supabase: the session pooler or direct connection, see docs/production.md)",
    secret: false,
    credentialUrl: true,
    unset: local("an embedded Postgres in the data folder"),
    example: "postgres://postgres.<project>:<password>@aws-0-eu-central-1.pooler.supabase.com:5432/postgres",
  }),
  key({
    name: "DOKKU_HOSTS",
    group: "Dokku hosts",
    description:
      "seeds the hosts table: ssh://user@host:port?memoryMb=…&cpus=…, comma-separated (prefer mindroom-ops hosts add)",
    secret: false,
    unset: local("the local Dokku host of ./platform start"),
    example: "",
  }),
  key({
    name: "DOKKU_KNOWN_HOSTS",
    group: "Dokku hosts",
    description:
      "a known_hosts file with the keys of seeded hosts (hosts added with mindroom-ops pin their own)",
    secret: false,
    unset: local("the local Dokku host's known_hosts"),
    example: "",
  }),
  key({
    name: "DOKKU_SSH_KEY",
    group: "Dokku hosts",
    description: "path of the private key the worker logs in to Dokku hosts with",
    secret: false,
    unset: local("the local Dokku host's key"),
    example: "/etc/mindroom/dokku_ed25519",
  }),
  key({
    name: "MINDROOM_RUNTIME_IMAGE",
    group: "Tenants",
    description:
      "the MindRoom runtime image, pinned by digest (mindroom-ops rollout moves tenants to a new one)",
    secret: false,
    unset: local("the example image digests"),
    example: "ghcr.io/mindroom-ai/mindroom@sha256:<64 hex>",
  }),
  key({
    name: "MINDROOM_HOMESERVER_IMAGE",
    group: "Tenants",
    description: "the Matrix homeserver image, pinned by digest",
    secret: false,
    unset: local("the example image digests"),
    example: "ghcr.io/mindroom-ai/mindroom-tuwunel@sha256:<64 hex>",
  }),
  key({
    name: "MINDROOM_BACKUP_IMAGE",
    group: "Tenants",
    description: "the storage backup job's image, pinned by digest",
    secret: false,
    unset: local("the example image digests"),
    example: "ghcr.io/mindroom-ai/mindroom-backup@sha256:<64 hex>",
  }),
  key({
    name: "MINDROOM_TLS_EMAIL",
    group: "Tenants",
    description: "the Let's Encrypt account of tenant certificates",
    secret: false,
    unset: def("ops@<MINDROOM_BASE_DOMAIN>"),
    example: "ops@mindroom.chat",
  }),
  key({
    name: "CLOUDFLARE_ZONE_ID",
    group: "Tenants",
    description: "tenant DNS records go into this Cloudflare zone",
    secret: false,
    unset: none("no DNS records (refused in production)"),
    example: "0123456789abcdef0123456789abcdef",
  }),
  key({
    name: "CLOUDFLARE_API_TOKEN",
    group: "Tenants",
    description: "a Cloudflare token with DNS edit on that zone (read by the Cloudflare provider)",
    secret: true,
    unset: none("no DNS records (refused in production)"),
    example: "<from your secret store>",
  }),
  key({
    name: "MINDROOM_BACKUP_BUCKET",
    group: "Tenants",
    description: "tenant backups go to this S3 bucket, each under its own prefix",
    secret: false,
    unset: none("no backups (refused in production)"),
    example: "mindroom-backups",
  }),
  key({
    name: "MINDROOM_BACKUP_RETENTION",
    group: "Tenants",
    description:
      "how long backups are kept: the bucket's lifecycle expires older ones, and a deleted tenant's are purged once its newest is that old",
    secret: false,
    unset: def("30d"),
    example: "30d",
  }),
  key({
    name: "MINDROOM_BACKUP_REGION",
    group: "Tenants",
    description: "the backup bucket's region",
    secret: false,
    unset: def("AWS_REGION"),
    example: "eu-central-1",
  }),
  key({
    name: "STRIPE_SECRET_KEY",
    group: "Stripe",
    description: "a live secret or restricted key (sk_live_…, rk_live_…)",
    secret: true,
    unset: local("the local Stripe API's test key"),
    example: "<sk_live_… from the Stripe dashboard>",
  }),
  key({
    name: "STRIPE_WEBHOOK_SECRET",
    group: "Stripe",
    description: "the signing secret of the webhook endpoint (whsec_…)",
    secret: true,
    unset: { kind: "generated", file: "stripe-webhook-secret" },
    example: "<whsec_… from the endpoint's page>",
  }),
  key({
    name: "STRIPE_API_BASE",
    group: "Stripe",
    description: "where API calls go",
    secret: false,
    unset: def("https://api.stripe.com"),
    example: "",
  }),
  key({
    name: "STRIPE_PRICE_TIERS",
    group: "Stripe",
    description: "Stripe price id → tier: price_…=free,price_…=starter,price_…=professional",
    secret: false,
    unset: local("the local Stripe API's test prices"),
    example: "price_1QfRee…=free,price_1QfRst…=starter,price_1QfRpr…=professional",
  }),
  key({
    name: "STRIPE_WEBHOOK_TOLERANCE",
    group: "Stripe",
    description: "seconds a signature's timestamp may be off",
    secret: false,
    unset: def("300"),
    example: "300",
  }),
  key({
    name: "MINDROOM_AUTH_PROVIDER",
    group: "Sign-in and portal",
    description: "supabase (Supabase Auth) or local (the local auth server, development only)",
    secret: false,
    unset: def("local"),
    example: "supabase",
  }),
  key({
    name: "SUPABASE_URL",
    group: "Sign-in and portal",
    description: "the Supabase project URL",
    secret: false,
    unset: local("the local auth server"),
    example: "https://<project>.supabase.co",
  }),
  key({
    name: "SUPABASE_ANON_KEY",
    group: "Sign-in and portal",
    description: "the project's anon (publishable) key: browser-safe, RLS applies",
    secret: false,
    unset: local("the local auth server's key"),
    example: "<anon key from the project's API settings>",
  }),
  key({
    name: "SUPABASE_SERVICE_ROLE_KEY",
    group: "Sign-in and portal",
    description: "the service-role key (account deletion through the admin API)",
    secret: true,
    unset: local("the local auth server's key"),
    example: "<service_role key from the project's API settings>",
  }),
  key({
    name: "PORTAL_PUBLIC_URL",
    group: "Sign-in and portal",
    description: "the portal's public https URL: Stripe return URLs, sign-in links, links in emails",
    secret: false,
    unset: def("http://127.0.0.1:<PORT>"),
    example: "https://app.mindroom.chat",
  }),
  key({
    name: "PORT",
    group: "Sign-in and portal",
    description: "the portal's port",
    secret: false,
    unset: def("3000"),
    example: "3000",
  }),
  key({
    name: "PORTAL_METRICS_HOST",
    group: "Sign-in and portal",
    description: "the portal's internal Prometheus listener",
    secret: false,
    unset: def("127.0.0.1"),
    example: "127.0.0.1",
  }),
  key({
    name: "PORTAL_METRICS_PORT",
    group: "Sign-in and portal",
    description: "the port of the portal's metrics listener (0 picks a free one)",
    secret: false,
    unset: def("9465"),
    example: "9465",
  }),
  key({
    name: "PORTAL_COOKIE_SECURE",
    group: "Sign-in and portal",
    description: "false drops the Secure flag from session cookies (plain-http test hosts only)",
    secret: false,
    unset: def("true"),
    example: "true",
  }),
  key({
    name: "MINDROOM_TENANT_ACCESS_KEY",
    group: "Sign-in and portal",
    description:
      "the portal's key for tenants' single sign-on keys and Matrix registration secrets (never the root secret; bin/mindroom-ops keys portal prints it)",
    secret: true,
    unset: none(
      "derived from the root secret by ./platform start; elsewhere Open MindRoom and Matrix accounts are unavailable",
    ),
    example: "<64 hex characters from mindroom-ops keys portal>",
  }),
  key({
    name: "MINDROOM_PROVIDER_KEYS_PUBLIC_KEY",
    group: "Sign-in and portal",
    description:
      "the worker's public key customers' model keys are sealed to (the portal seals, only the worker opens; mindroom-ops keys portal prints it)",
    secret: false,
    unset: none("derived by ./platform start; elsewhere customers cannot enter model keys"),
    example: "<43 characters from mindroom-ops keys portal>",
  }),
  key({
    name: "MINDROOM_TENANT_HOMESERVER_URL",
    group: "Sign-in and portal",
    description:
      "where the portal reaches a tenant's homeserver, {slug} replaced (e.g. a private network path)",
    secret: false,
    unset: none("the tenant's public Matrix URL"),
    example: "",
  }),
  key({
    name: "MINDROOM_MATRIX_CLIENT_URL",
    group: "Sign-in and portal",
    description:
      "the Matrix web client the portal links to, {homeserver} replaced by the tenant's homeserver URL",
    secret: false,
    unset: def("https://app.element.io/#/login"),
    example: "",
  }),
  key({
    name: "PORTAL_RATE_LIMITS",
    group: "Sign-in and portal",
    description:
      "overrides of the portal's rate-limit budgets (portal/src/server/rateLimitRules.ts), e.g. signIn.account=5/15m,requests.address=off",
    secret: false,
    unset: def("the built-in budgets"),
    example: "",
  }),
  key({
    name: "SMTP_URL",
    group: "Mail",
    description: "outgoing mail: smtp://user:pass@host:587 (STARTTLS) or smtps://…:465",
    secret: false,
    credentialUrl: true,
    unset: local("the local Mailpit"),
    example: "smtp://apikey:<password>@smtp.example.com:587",
  }),
  key({
    name: "MAIL_FROM",
    group: "Mail",
    description: "the sender customers see",
    secret: false,
    unset: def("MindRoom <no-reply@<MINDROOM_BASE_DOMAIN>>"),
    example: "MindRoom <no-reply@mindroom.chat>",
  }),
  key({
    name: "MINDROOM_WEBHOOKS_PUBLIC_URL",
    group: "Webhook service",
    description:
      "the webhook service's public https URL: the platform stack gives its domain TLS; Stripe's endpoint is <url>/stripe/webhook",
    secret: false,
    unset: none("no platform stack (mindroom-ops platform refuses)"),
    example: "https://hooks.mindroom.chat",
  }),
  key({
    name: "MINDROOM_WEBHOOKS_HOST",
    group: "Webhook service",
    description: "the address the webhook service listens on",
    secret: false,
    unset: def("127.0.0.1"),
    example: "0.0.0.0",
  }),
  key({
    name: "MINDROOM_WEBHOOKS_PORT",
    group: "Webhook service",
    description: "its port (0 picks a free one)",
    secret: false,
    unset: def("8790"),
    example: "8790",
  }),
  key({
    name: "MINDROOM_WEBHOOKS_BODY_LIMIT",
    group: "Webhook service",
    description: "largest accepted body",
    secret: false,
    unset: def("1mb"),
    example: "1mb",
  }),
  key({
    name: "MINDROOM_WEBHOOKS_RATE",
    group: "Webhook service",
    description: "requests per second per source address (0: no limit)",
    secret: false,
    unset: def("100"),
    example: "100",
  }),
  key({
    name: "MINDROOM_WEBHOOKS_BURST",
    group: "Webhook service",
    description: "burst size of that limit",
    secret: false,
    unset: def("twice the rate"),
    example: "",
  }),
  key({
    name: "MINDROOM_TRUSTED_PROXIES",
    group: "Webhook service",
    description: "addresses or CIDR ranges of the proxies in front (only their X-Forwarded-For is believed)",
    secret: false,
    unset: none("no proxy is trusted: the client address is the peer's"),
    example: "10.0.0.0/8",
  }),
  key({
    name: "MINDROOM_METRICS_HOST",
    group: "Webhook service",
    description:
      "the internal Prometheus listener of the webhook service and worker (never the one Stripe calls)",
    secret: false,
    unset: def("127.0.0.1"),
    example: "127.0.0.1",
  }),
  key({
    name: "MINDROOM_METRICS_PORT",
    group: "Webhook service",
    description: "the port of that metrics listener (0 picks a free one)",
    secret: false,
    unset: def("9464"),
    example: "9464",
  }),
  key({
    name: "MINDROOM_WEBHOOKS_DB_CONNECTIONS",
    group: "Webhook service",
    description: "database connections for recording events",
    secret: false,
    unset: def("10"),
    example: "10",
  }),
  key({
    name: "MINDROOM_DELETION_GRACE",
    group: "Worker",
    description: "how long a cancelled tenant's data is kept before deletion (7d, 12h, 0s)",
    secret: false,
    unset: def("7d"),
    example: "7d",
  }),
  key({
    name: "MINDROOM_SWEEP_INTERVAL",
    group: "Worker",
    description: "how often Stripe and the instances table are compared (0s: never)",
    secret: false,
    unset: def("10m"),
    example: "10m",
  }),
  key({
    name: "MINDROOM_HOMESERVER",
    group: "Tenants",
    description: "the homeserver new tenants run: tuwunel or synapse (a tenant keeps its own)",
    secret: false,
    unset: def("tuwunel"),
    example: "tuwunel",
  }),
  key({
    name: "MINDROOM_BRIDGE_IMAGES",
    group: "Tenants",
    description:
      "the mautrix bridge images, telegram=<image>,whatsapp=…,discord=…,slack=…, each pinned by digest",
    secret: false,
    unset: local("example images (refused in production)"),
    example: "<telegram=dock.mau.dev/mautrix/telegram@sha256:…,…>",
  }),
  key({
    name: "MINDROOM_MANAGED_PROVIDER_KEYS",
    group: "Tenants",
    description:
      "model keys the operator provides per tier instead of the customer's, e.g. starter:openrouter=sk-…",
    secret: true,
    unset: none("customers bring their own keys"),
    example: "",
  }),
  key({
    name: "MINDROOM_USAGE_INTERVAL",
    group: "Worker",
    description: "how often each tenant's usage is measured on its host, for quotas and warnings (0s: never)",
    secret: false,
    unset: def("1h"),
    example: "1h",
  }),
  key({
    name: "MINDROOM_HEALTH_INTERVAL",
    group: "Worker",
    description: "how often every running tenant's health is checked (0s: never)",
    secret: false,
    unset: def("1m"),
    example: "1m",
  }),
  key({
    name: "MINDROOM_HEALTH_HTTP_PROBE",
    group: "Worker",
    description: "on: also probe each app's readiness URL over HTTPS (off only where containers do not run)",
    secret: false,
    unset: def("on, except in the test environment"),
    example: "on",
  }),
  key({
    name: "MINDROOM_DRIFT_INTERVAL",
    group: "Worker",
    description: "how often every tenant is checked for drift (0s: never)",
    secret: false,
    unset: def("6h"),
    example: "6h",
  }),
  key({
    name: "MINDROOM_CAPACITY_RETRY_INTERVAL",
    group: "Worker",
    description: "how often tenants waiting for capacity are tried again",
    secret: false,
    unset: def("15s"),
    example: "15s",
  }),
  key({
    name: "MINDROOM_BACKUP_CHECK_INTERVAL",
    group: "Worker",
    description:
      "how often backup retention is enforced and each tenant's newest backup recorded (0s: never)",
    secret: false,
    unset: def("15m"),
    example: "15m",
  }),
  key({
    name: "MINDROOM_AUTOMATION_WORKERS",
    group: "Worker",
    description: "operations at once (each a process running the Pulumi engine)",
    secret: false,
    unset: def("from memory: one per 2 GiB, at most two per core and eight"),
    example: "",
  }),
  key({
    name: "MINDROOM_WORKER_CONCURRENCY",
    group: "Worker",
    description: "reconciles at once in this process",
    secret: false,
    unset: def("the number of automation workers"),
    example: "",
  }),
  key({
    name: "MINDROOM_OPERATION_TIMEOUT",
    group: "Worker",
    description:
      "seconds an operation may run before it is cancelled (at most 36000: a reconcile job's queue expiry is derived from it)",
    secret: false,
    unset: def("900"),
    example: "900",
  }),
  key({
    name: "MINDROOM_TENANT_LEASE_TTL",
    group: "Worker",
    description:
      "seconds a tenant's lease (one operation per tenant across machines) lasts without renewal: how soon a dead holder's tenant is taken over (3-600)",
    secret: false,
    unset: def("30"),
    example: "",
  }),
];

export function configKey(name: string): ConfigKey | undefined {
  return CONFIG_KEYS.find((k) => k.name === name);
}

function unsetText(unset: Unset): string {
  switch (unset.kind) {
    case "default":
      return `default ${unset.value}`;
    case "generated":
      return `generated once into <data>/${unset.file}`;
    case "local":
      return `local default: ${unset.what}`;
    case "none":
      return `unset: ${unset.what}`;
  }
}

/** The `.env.example` text: every key, grouped, with its meaning and what unset means. */
export function envExample(): string {
  const lines = [
    "# MindRoom Cloud configuration (generated from control/configuration.ts: mindroom-ops config example).",
    "# Copy to .env, or set the same names in the environment (the environment wins over .env).",
    "# Unset keys take local defaults, which MINDROOM_ENVIRONMENT=production refuses:",
    "# run `mindroom-ops config check` to see every effective value and where it came from.",
  ];
  for (const group of CONFIG_GROUPS) {
    lines.push("", `# ── ${group} ${"─".repeat(Math.max(3, 70 - group.length))}`);
    for (const k of CONFIG_KEYS.filter((c) => c.group === group)) {
      lines.push(
        "",
        `# ${k.description}${k.secret ? " (secret)" : ""}`,
        `# Unset: ${unsetText(k.unset)}.`,
        // Placeholders stay commented out: a copied file must not pass for a configured secret.
        `${k.example === "" || k.example.includes("<") ? "# " : ""}${k.name}=${k.example}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
