/**
 * Every policy of the MindRoom tenant pack, in one explicit list (index.ts
 * serves it; tests and `policyPackOptions` read it). Mandatory unless marked.
 */
import type { Policies } from "@pulumi/policy";
import { backupCredentialsScoped, productionBackupsEvery6h } from "./rules/backups.ts";
import { bridgesRegistered, bridgesStayPrivate, bridgesWithinTier } from "./rules/bridges.ts";
import { productionDataRetained, purgeOnlyAfterFinalBackup } from "./rules/dataSafety.ts";
import {
  dnsPointsAtKnownHosts,
  dnsProxiedAsConfigured,
  domainsUnderBaseDomain,
  tlsOnPublicDomains,
} from "./rules/domains.ts";
import { imagesPinnedByDigest } from "./rules/images.ts";
import { appsOnTenantNetwork, databasesLinkedWithinTenant, tenantNamesCarrySlug } from "./rules/isolation.ts";
import { appLimitsMatchTier } from "./rules/limits.ts";
import {
  tenantEnvironmentMatches,
  tenantOnKnownHost,
  tierFitsHost,
  tierHostHeadroom,
} from "./rules/placement.ts";
import {
  noPlaintextSecretMaterial,
  rootSecretStaysOut,
  secretsArePulumiSecrets,
  stackOutputsCarryNoSecrets,
} from "./rules/secrets.ts";
import { oneTenantPerStack, portalOutputsPresent } from "./rules/stack.ts";

export const PACK_NAME = "mindroom-tenant";

export const policies: Policies = [
  // resources and limits
  appLimitsMatchTier,
  tenantOnKnownHost,
  tenantEnvironmentMatches,
  tierFitsHost,
  tierHostHeadroom, // advisory
  // isolation
  tenantNamesCarrySlug,
  appsOnTenantNetwork,
  databasesLinkedWithinTenant,
  // Matrix bridges
  bridgesWithinTier,
  bridgesStayPrivate,
  bridgesRegistered,
  // TLS and DNS
  domainsUnderBaseDomain,
  tlsOnPublicDomains,
  dnsPointsAtKnownHosts,
  dnsProxiedAsConfigured,
  // images
  imagesPinnedByDigest,
  // secrets
  secretsArePulumiSecrets, // remediate: reported as mandatory
  noPlaintextSecretMaterial,
  rootSecretStaysOut,
  stackOutputsCarryNoSecrets,
  // backups
  productionBackupsEvery6h,
  backupCredentialsScoped,
  // data safety
  productionDataRetained,
  purgeOnlyAfterFinalBackup,
  // the stack
  oneTenantPerStack,
  portalOutputsPresent,
];
