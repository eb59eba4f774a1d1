/**
 * What the "Your MindRoom" page shows and changes: the customer's Matrix account, model keys and
 * bridges. Reads run as the person (RLS picks their rows); writes use the owner connection after
 * the caller checked who is asking, in the same transaction as their audit row and, when the
 * worker must act, its reconcile job.
 */
import { BRIDGE_KINDS, BRIDGES, type BridgeKind } from "../../../components/bridges.ts";
import { PROVIDER_LABELS, PROVIDERS, type Provider } from "../../../components/modelProviders.ts";
import { isTierId, type Limit, tier } from "../../../components/tiers.ts";
import { findMatrixAccount } from "../../../database/matrixAccounts.ts";
import { listProviderKeys } from "../../../database/providerKeys.ts";
import { asPerson } from "./database.ts";
import type { Identity } from "./identity.ts";
import type { Homeserver } from "./matrixRegistration.ts";
import { type OwnTenant, ownTenant } from "./ownTenant.ts";
import { portalSettings } from "./settings.ts";

export interface ModelKeyView {
  readonly provider: Provider;
  readonly label: string;
  /** Only the last four characters, and when it was set: the key itself is never shown again. */
  readonly last4: string | null;
  readonly setAt: string | null;
}

export interface BridgeView {
  readonly kind: BridgeKind;
  readonly label: string;
  readonly enabled: boolean;
  /** The worker has it running (in the tenant's applied outputs). */
  readonly running: boolean;
}

export interface MindRoomSetup {
  readonly tenant: { readonly slug: string; readonly state: string; readonly homeserver: string } | null;
  readonly matrix: {
    readonly userId: string | null;
    readonly homeserverUrl: string | null;
    readonly serverName: string | null;
    readonly clientUrl: string | null;
    readonly passwordResetAt: string | null;
  };
  readonly keys: readonly ModelKeyView[];
  readonly keysAvailable: boolean;
  readonly bridges: readonly BridgeView[];
  readonly bridgeLimit: Limit;
}

/** Where the portal reaches the tenant's homeserver. */
export function homeserverOf(tenant: OwnTenant): Homeserver | null {
  const template = portalSettings().tenantHomeserverUrl;
  const url = template ? template.replaceAll("{slug}", tenant.slug) : tenant.matrixUrl;
  if (!url) return null;
  return {
    kind: tenant.homeserver,
    url: url.replace(/\/$/, ""),
    serverName: tenant.serverName,
    slug: tenant.slug,
  };
}

export async function mindroomSetup(identity: Identity): Promise<MindRoomSetup> {
  const tenant = await ownTenant(identity);
  const settings = portalSettings();
  const [account, keys, running] = await asPerson(
    identity.claims,
    async (db) =>
      [
        tenant ? await findMatrixAccount(db, tenant.instanceId) : null,
        tenant ? await listProviderKeys(db, tenant.customerId) : [],
        tenant ? await runningBridges(db, tenant.instanceId) : [],
      ] as const,
  );
  const enabled = tenant?.bridges ?? [];
  const homeserverUrl = tenant?.matrixUrl ?? null;
  return {
    tenant: tenant ? { slug: tenant.slug, state: tenant.actualState, homeserver: tenant.homeserver } : null,
    matrix: {
      userId: account?.matrixUserId ?? null,
      homeserverUrl,
      serverName: tenant?.serverName ?? null,
      clientUrl: homeserverUrl
        ? settings.matrixClientUrl.replaceAll("{homeserver}", encodeURIComponent(homeserverUrl))
        : null,
      passwordResetAt: account?.passwordResetAt?.toISOString() ?? null,
    },
    keys: PROVIDERS.map((provider) => {
      const key = keys.find((k) => k.provider === provider);
      return {
        provider,
        label: PROVIDER_LABELS[provider],
        last4: key?.last4 ?? null,
        setAt: key?.setAt.toISOString() ?? null,
      };
    }),
    keysAvailable: Boolean(settings.providerKeysPublicKey),
    bridges: BRIDGE_KINDS.map((kind) => ({
      kind,
      label: BRIDGES[kind].label,
      enabled: enabled.includes(kind),
      running: running.includes(kind),
    })),
    bridgeLimit: tenant && isTierId(tenant.tier) ? tier(tenant.tier).bridges : 0,
  };
}

/** The bridges the tenant's last applied outputs list. */
async function runningBridges(
  db: Parameters<typeof findMatrixAccount>[0],
  instanceId: string,
): Promise<BridgeKind[]> {
  const { rows } = await db.query<{ kind: string }>(
    "select b->>'kind' as kind from public.instances i, jsonb_array_elements(coalesce(i.outputs->'bridges', '[]'::jsonb)) b where i.id = $1",
    [instanceId],
  );
  return rows
    .map((r) => r.kind)
    .filter((k): k is BridgeKind => (BRIDGE_KINDS as readonly string[]).includes(k));
}
