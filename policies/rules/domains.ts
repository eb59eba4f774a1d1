/**
 * TLS and DNS: a tenant serves only its own domains under the platform's base
 * domain, every one of them over TLS, and its DNS records point only at known
 * Dokku hosts, proxied as each host's config says.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { findHost, type KnownHost } from "../../components/hostPool.ts";
import { acrossStack, inTenant } from "../define.ts";
import { bool, obj, type Props, str, strings } from "../props.ts";
import { shortType, TYPES } from "../resourceTypes.ts";

export const TLS_MODES = ["letsencrypt", "origin-certificate"] as const;

/** The domains a resource serves or names (empty for types that have none). */
function domainsOf(type: string, props: Props): string[] {
  switch (type) {
    case TYPES.app:
      return strings(obj(props.web)?.domains);
    case TYPES.tls:
      return strings(props.domains);
    case TYPES.dnsRecord:
    case TYPES.cloudflareRecord:
      return strings([props.name]);
    default:
      return [];
  }
}

export const domainsUnderBaseDomain: ResourceValidationPolicy = {
  name: "domains-under-base-domain",
  description: "Every tenant domain is one of the tenant's own domains under the platform's base domain.",
  enforcementLevel: "mandatory",
  ...inTenant(
    {
      types: [TYPES.tenant, TYPES.app, TYPES.tls, TYPES.dnsRecord, TYPES.cloudflareRecord],
      config: ["baseDomain"],
    },
    ({ resource, tenant, config, report }) => {
      if (resource.type === TYPES.tenant) {
        if (tenant.spec.baseDomain !== config.baseDomain) {
          report(
            `its base domain is ${JSON.stringify(tenant.spec.baseDomain)}, not the platform's ${config.baseDomain}; set the spec's baseDomain to it.`,
          );
        }
        return;
      }
      const own = tenant.domains ? Object.values(tenant.domains) : [];
      for (const domain of domainsOf(resource.type, resource.props)) {
        if (!domain.endsWith(`.${config.baseDomain}`)) {
          report(
            `${shortType(resource.type)} ${resource.name} names ${domain}, which is not under ${config.baseDomain}; serve only the tenant's own domains.`,
          );
        } else if (!own.includes(domain)) {
          report(
            `${shortType(resource.type)} ${resource.name} names ${domain}, which is not one of the tenant's domains (${own.join(", ")}); serve only those.`,
          );
        }
      }
    },
  ),
};

export const tlsOnPublicDomains: StackValidationPolicy = {
  name: "tls-on-public-domains",
  description:
    "Every domain a tenant app serves has TLS: a Let's Encrypt or origin certificate on that app covering it.",
  enforcementLevel: "mandatory",
  ...acrossStack({ config: [] }, ({ resources, report }) => {
    const tls = resources.filter((r) => r.type === TYPES.tls && r.inputs);
    for (const app of resources.filter((r) => r.type === TYPES.app)) {
      if (!app.inputs) {
        report(
          app.tenant,
          `the pack did not see the inputs of app ${app.name}; keep the resource policies enabled.`,
          app.urn,
        );
        continue;
      }
      const name = str(app.inputs.app);
      for (const domain of domainsOf(TYPES.app, app.inputs)) {
        const covered = tls.some(
          (t) =>
            t.inputs &&
            str(t.inputs.app) === name &&
            strings(t.inputs.domains).includes(domain) &&
            (TLS_MODES as readonly string[]).includes(str(t.inputs.mode) ?? ""),
        );
        if (!covered) {
          report(
            app.tenant,
            `app ${name} serves ${domain} without TLS; add a Tls (letsencrypt or origin-certificate) for it.`,
            app.urn,
          );
        }
      }
    }
  }),
};

/** The host a DNS record points at, with what the record says. */
function record(
  type: string,
  props: Props,
): { address: string | undefined; recordType: string; proxied: boolean | undefined } {
  if (type === TYPES.cloudflareRecord) {
    return { address: str(props.content), recordType: str(props.type) ?? "", proxied: bool(props.proxied) };
  }
  const address = str(props.address);
  return { address, recordType: address?.includes(":") ? "AAAA" : "A", proxied: bool(props.proxied) };
}

function hostAt(hosts: readonly KnownHost[], address: string | undefined): KnownHost | undefined {
  return hosts.find((h) => h.address === address);
}

export const dnsPointsAtKnownHosts: ResourceValidationPolicy = {
  name: "dns-points-at-known-hosts",
  description:
    "A tenant's DNS records are A/AAAA records pointing at the known Dokku host the tenant lives on.",
  enforcementLevel: "mandatory",
  ...inTenant(
    { types: [TYPES.dnsRecord, TYPES.cloudflareRecord], config: ["hosts"] },
    ({ resource, tenant, config, report }) => {
      const r = record(resource.type, resource.props);
      const label = `${shortType(resource.type)} ${resource.name} (${str(resource.props.name)})`;
      if (r.recordType !== "A" && r.recordType !== "AAAA") {
        report(
          `${label} is a ${r.recordType || "typeless"} record; only A/AAAA records to a known host are allowed.`,
        );
        return;
      }
      if (!hostAt(config.hosts, r.address)) {
        report(
          `${label} points at ${r.address}, which is no known Dokku host (known: ${config.hosts.map((h) => h.address).join(", ")}); point it at the tenant's host.`,
        );
        return;
      }
      const home = findHost(config.hosts, tenant.spec.host.url);
      if (home && home.address !== r.address) {
        report(
          `${label} points at ${r.address}, but the tenant lives on ${home.url} at ${home.address}; point it there.`,
        );
      }
    },
  ),
};

export const dnsProxiedAsConfigured: ResourceValidationPolicy = {
  name: "dns-proxied-as-configured",
  description: "A tenant's DNS records go through Cloudflare's proxy exactly when the host's config says so.",
  enforcementLevel: "mandatory",
  ...inTenant(
    { types: [TYPES.dnsRecord, TYPES.cloudflareRecord], config: ["hosts"] },
    ({ resource, config, report }) => {
      const r = record(resource.type, resource.props);
      const host = hostAt(config.hosts, r.address);
      if (!host) return; // dns-points-at-known-hosts says so
      if (r.proxied !== host.proxied) {
        report(
          `${shortType(resource.type)} ${resource.name} (${str(resource.props.name)}) has proxied=${r.proxied}, ` +
            `but host ${host.url} is configured proxied=${host.proxied}; set the tenant's dns.proxied to match.`,
        );
      }
    },
  ),
};
