/** The identity server the settings name (`MINDROOM_AUTH_PROVIDER`), made once per process. */
import { type PortalSettings, PortalSettingsError, portalSettings } from "../settings.ts";
import type { IdentityProvider } from "./identityProvider.ts";
import { KratosGatewayProvider } from "./kratosGateway.ts";
import { SupabaseProvider } from "./supabase.ts";

export function createIdentityProvider(settings: PortalSettings): IdentityProvider {
  switch (settings.authProvider) {
    case "local":
      return new KratosGatewayProvider({
        supabaseUrl: settings.supabaseUrl,
        serviceRoleKey: settings.supabaseServiceRoleKey,
      });
    case "supabase":
      if (!settings.supabaseAnonKey)
        throw new PortalSettingsError("SUPABASE_ANON_KEY is required when MINDROOM_AUTH_PROVIDER=supabase");
      return new SupabaseProvider({
        url: settings.supabaseUrl,
        anonKey: settings.supabaseAnonKey,
        serviceRoleKey: settings.supabaseServiceRoleKey,
      });
  }
}

let current: IdentityProvider | undefined;

export function identityProvider(): IdentityProvider {
  current ??= createIdentityProvider(portalSettings());
  return current;
}
