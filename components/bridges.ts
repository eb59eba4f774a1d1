/**
 * The Matrix bridges a tenant can run: the mautrix bridges, each a Dokku app of
 * the tenant on its network, registered as an application service on the
 * tenant's homeserver. What each one is called, listens on and owns in the
 * homeserver's user namespace is fixed here; how many a tenant may run comes
 * from its tier (tiers.ts).
 */

export const BRIDGE_KINDS = ["telegram", "whatsapp", "discord", "slack"] as const;
export type BridgeKind = (typeof BRIDGE_KINDS)[number];

export interface Bridge {
  readonly kind: BridgeKind;
  readonly label: string;
  /** Two letters in app and storage names (`br-<code>-<slug>`), so every name stays a short DNS label. */
  readonly code: string;
  /** The appservice's HTTP port inside the container, where the homeserver pushes transactions. */
  readonly port: number;
  /** The bridge bot's localpart (`sender_localpart` of the registration). */
  readonly botLocalpart: string;
  /** The prefix of the puppets' localparts (`telegram_123`). */
  readonly userPrefix: string;
  /** Where the image keeps its config, registration and database. */
  readonly dataDir: string;
  /** The upstream image (pinned by digest per platform, see MINDROOM_BRIDGE_IMAGES). */
  readonly repository: string;
}

export const BRIDGES: { readonly [K in BridgeKind]: Bridge & { readonly kind: K } } = {
  telegram: {
    kind: "telegram",
    label: "Telegram",
    code: "tg",
    port: 29317,
    botLocalpart: "telegrambot",
    userPrefix: "telegram_",
    dataDir: "/data",
    repository: "dock.mau.dev/mautrix/telegram",
  },
  whatsapp: {
    kind: "whatsapp",
    label: "WhatsApp",
    code: "wa",
    port: 29318,
    botLocalpart: "whatsappbot",
    userPrefix: "whatsapp_",
    dataDir: "/data",
    repository: "dock.mau.dev/mautrix/whatsapp",
  },
  discord: {
    kind: "discord",
    label: "Discord",
    code: "dc",
    port: 29334,
    botLocalpart: "discordbot",
    userPrefix: "discord_",
    dataDir: "/data",
    repository: "dock.mau.dev/mautrix/discord",
  },
  slack: {
    kind: "slack",
    label: "Slack",
    code: "sl",
    port: 29335,
    botLocalpart: "slackbot",
    userPrefix: "slack_",
    dataDir: "/data",
    repository: "dock.mau.dev/mautrix/slack",
  },
};

export function isBridgeKind(value: string): value is BridgeKind {
  return (BRIDGE_KINDS as readonly string[]).includes(value);
}

/** Localparts a customer may not take for their own account: bridges' bots and puppets. */
export function reservedByBridges(localpart: string): boolean {
  return Object.values(BRIDGES).some(
    (b) => localpart === b.botLocalpart || localpart.startsWith(b.userPrefix),
  );
}
