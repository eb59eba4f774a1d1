/**
 * Isolation: every Dokku name a tenant uses is one of the names derived from its
 * own slug (components/tenantNames.ts), its apps join only its network, and its
 * databases are linked only to its apps. Names from another tenant's slug are how
 * one tenant would reach another's data.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import type { TenantNames } from "../../components/tenantNames.ts";
import { anyResource, inTenant } from "../define.ts";
import { ledger } from "../ledger.ts";
import { list, obj, type Props, str } from "../props.ts";
import { isInfrastructure, shortType, TYPES } from "../resourceTypes.ts";

const SERVICE_KINDS = ["postgres", "redis"] as const;
type ServiceKind = (typeof SERVICE_KINDS)[number];

function isServiceKind(kind: string): kind is ServiceKind {
  return (SERVICE_KINDS as readonly string[]).includes(kind);
}

function serviceName(names: TenantNames, kind: string): string | undefined {
  return isServiceKind(kind) ? names[kind] : undefined;
}

/** Storage entries an app mounts: its own and (the backup job's) the ones it reads. */
function mountedEntries(props: Props): string[] {
  return [...list(props.storage), ...list(props.foreignMounts)].flatMap((m) => {
    const entry = str(obj(m)?.entry);
    return entry === undefined ? [] : [entry];
  });
}

/** Each `[what, name, allowed]` whose name is not allowed, as a message. */
function misnamed(checks: readonly (readonly [string, string | undefined, readonly string[]])[]): string[] {
  return checks
    .filter(([, name, allowed]) => name === undefined || !allowed.includes(name))
    .map(
      ([what, name, allowed]) =>
        `${what} ${JSON.stringify(name ?? null)} is not the tenant's (expected ${allowed.join(" or ")})`,
    );
}

export const tenantNamesCarrySlug: ResourceValidationPolicy = {
  name: "tenant-names-carry-slug",
  description:
    "Every Dokku app, service, network and storage entry of a tenant is named from that tenant's slug, and every resource belongs to a tenant (or, in the platform stack, to the control plane).",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Derive every name with tenantNames(slug) (components/tenantNames.ts) and create resources inside the MindRoomTenant.",
  ...anyResource({ config: [] }, ({ resource, tenant, report }) => {
    if (isInfrastructure(resource.type) || resource.type === TYPES.tenant) return;
    if (!tenant) {
      // The platform stack's resources belong to the control plane; the other rules still judge them.
      if (ledger.inControlPlane(resource.urn)) return;
      report(
        `${shortType(resource.type)} ${resource.name} belongs to no MindRoomTenant; create it inside the tenant's component.`,
      );
      return;
    }
    const names = tenant.names;
    if (!names) {
      report(
        `its slug ${JSON.stringify(tenant.spec.slug)} is not a valid slug, so no name can carry it; fix the spec's slug.`,
      );
      return;
    }
    const p = resource.props;
    const apps = [names.runtimeApp, names.homeserverApp, names.backupApp];
    const allApps = [...apps, ...Object.values(names.bridgeApps)];
    const storage = [names.runtimeStorage, names.homeserverStorage, ...Object.values(names.bridgeStorage)];
    const services = [names.postgres, names.redis];
    let problems: string[] = [];
    switch (resource.type) {
      case TYPES.network:
        problems = misnamed([["network", str(p.network), [names.network]]]);
        break;
      case TYPES.service: {
        const expected = serviceName(names, str(p.kind) ?? "");
        problems = misnamed([
          [`${str(p.kind) ?? "service"} service`, str(p.service), expected ? [expected] : services],
        ]);
        break;
      }
      case TYPES.app:
        problems = misnamed([
          ["app", str(p.app), allApps],
          ...mountedEntries(p).map((entry) => ["storage entry", entry, storage] as const),
        ]);
        break;
      case TYPES.tls:
        problems = misnamed([["TLS app", str(p.app), apps]]);
        break;
      case TYPES.serviceBackup:
        problems = misnamed([["backed-up service", str(p.service), services]]);
        break;
      case TYPES.backupCredentials:
        problems = misnamed([["backup credentials slug", str(p.slug), [names.slug]]]);
        break;
      case TYPES.iamUser:
        problems = misnamed([
          ["IAM user", str(p.name), [`mindroom-backup-${names.slug}`]],
          ["IAM user tag tenant", str(obj(p.tags)?.tenant), [names.slug]],
        ]);
        break;
    }
    for (const problem of problems)
      report(
        `${shortType(resource.type)} ${resource.name}: ${problem}; derive names with tenantNames(slug).`,
      );
  }),
};

export const appsOnTenantNetwork: ResourceValidationPolicy = {
  name: "apps-on-tenant-network",
  description: "A tenant's apps and services attach only to that tenant's own network.",
  enforcementLevel: "mandatory",
  ...inTenant({ types: [TYPES.app, TYPES.service], config: [] }, ({ resource, tenant, report }) => {
    const expected = tenant.names?.network;
    const network = str(resource.props.network);
    if (expected === undefined || network !== expected) {
      const what =
        resource.type === TYPES.app
          ? `app ${str(resource.props.app)}`
          : `service ${str(resource.props.service)}`;
      report(
        `${what} attaches to network ${JSON.stringify(network ?? null)}, not the tenant's own ${expected ?? "(none: invalid slug)"}; attach it to that network only.`,
      );
    }
  }),
};

export const databasesLinkedWithinTenant: ResourceValidationPolicy = {
  name: "databases-linked-within-tenant",
  description: "A tenant's apps link only to that tenant's own Postgres and Redis services.",
  enforcementLevel: "mandatory",
  ...inTenant({ types: [TYPES.app], config: [] }, ({ resource, tenant, report }) => {
    const names = tenant.names;
    for (const link of list(resource.props.services)) {
      const kind = str(obj(link)?.kind) ?? "";
      const service = str(obj(link)?.service);
      const expected = names ? serviceName(names, kind) : undefined;
      if (expected === undefined || service !== expected) {
        report(
          `app ${str(resource.props.app)} is linked to ${kind || "a"} service ${JSON.stringify(service ?? null)}, ` +
            `which is not the tenant's own (${expected ?? "none of that kind"}); link only the tenant's services.`,
        );
      }
    }
  }),
};
