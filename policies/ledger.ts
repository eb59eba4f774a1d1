/**
 * What the analyzer has seen so far in this operation.
 *
 * CrossGuard validates one resource at a time and tells it only its parent's
 * URN, but most tenant rules need the tenant: its slug, tier, environment. The
 * engine analyzes a resource before it answers the resource's registration, and
 * a child can only register once its parent's registration has been answered,
 * so every ancestor of a resource has been analyzed before the resource is. The
 * analyzer process lives for one operation on one stack, so remembering what it
 * saw, keyed by URN, gives each resource its tenant while the resource can still
 * be refused (before it is created, not after, as a stack policy would).
 *
 * Stack policies see only outputs (a component's outputs are not its recorded
 * inputs), so they read inputs from here too.
 */

import type { Props } from "./props.ts";
import { TYPES } from "./resourceTypes.ts";
import { type TenantView, tenantView } from "./tenantView.ts";

export interface SeenResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent: string | undefined;
  /** The resource's inputs as the engine sent them (unknown values throw on access). */
  readonly props: Props;
  readonly protect: boolean;
}

/** The subset of CrossGuard's validation args the ledger records. */
export interface Observable {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly props: Props;
  readonly opts: { readonly parent?: string; readonly protect: boolean };
}

export class AnalysisLedger {
  private readonly resources = new Map<string, SeenResource>();
  private readonly tenants = new Map<string, TenantView>();
  private readonly plainSecrets = new Map<string, readonly string[]>();

  /**
   * Records a resource (every policy calls this first, so any enabled policy
   * keeps the ledger whole). The latest registration of a URN wins.
   */
  observe(args: Observable): SeenResource {
    const seen: SeenResource = {
      urn: args.urn,
      type: args.type,
      name: args.name,
      parent: args.opts.parent || undefined,
      props: args.props,
      protect: args.opts.protect,
    };
    const known = this.resources.get(args.urn);
    if (known && known.props === seen.props && known.parent === seen.parent && known.protect === seen.protect)
      return known;
    this.resources.set(args.urn, seen);
    this.tenants.delete(args.urn);
    return seen;
  }

  resource(urn: string): SeenResource | undefined {
    return this.resources.get(urn);
  }

  /** The nearest MindRoomTenant at or above `urn`. */
  tenantOf(urn: string): TenantView | undefined {
    for (let r = this.resources.get(urn); r; r = r.parent ? this.resources.get(r.parent) : undefined) {
      if (r.type === TYPES.tenant) {
        let view = this.tenants.get(r.urn);
        if (!view) {
          view = tenantView(r.urn, r.props);
          this.tenants.set(r.urn, view);
        }
        return view;
      }
    }
    return undefined;
  }

  /** Whether a ControlPlane is at or above `urn`: the platform stack's resource, not a tenant's. */
  inControlPlane(urn: string): boolean {
    for (let r = this.resources.get(urn); r; r = r.parent ? this.resources.get(r.parent) : undefined)
      if (r.type === TYPES.controlPlane) return true;
    return false;
  }

  /** Records which sensitive fields of a resource are plain text (from the remediation pass, see secrets.ts). */
  recordPlainSecrets(urn: string, paths: readonly string[]): void {
    this.plainSecrets.set(urn, paths);
  }

  /**
   * Plain-text sensitive fields of a resource, taken (each remediation pass is
   * read by the one validation that follows it); undefined when the remediation
   * pass did not look at the resource.
   */
  takePlainSecrets(urn: string): readonly string[] | undefined {
    const paths = this.plainSecrets.get(urn);
    this.plainSecrets.delete(urn);
    return paths;
  }
}

/** The one ledger of this analyzer process. */
export const ledger = new AnalysisLedger();
