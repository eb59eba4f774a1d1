/**
 * Customers: one per person (Supabase `auth.users`) and Stripe customer. The
 * webhook worker finds or creates them by Stripe customer id; the portal by
 * user id, and links the two when a person checks out.
 */
import type { Queryable } from "./connection.ts";

export interface Customer {
  readonly id: string;
  readonly userId: string | null;
  readonly stripeCustomerId: string | null;
  readonly email: string | null;
  readonly displayName: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

interface CustomerRow {
  id: string;
  user_id: string | null;
  stripe_customer_id: string | null;
  email: string | null;
  display_name: string | null;
  created_at: Date;
  updated_at: Date;
}

export class CustomerConflictError extends Error {
  override readonly name = "CustomerConflictError";
}

function fromRow(row: CustomerRow): Customer {
  return {
    id: row.id,
    userId: row.user_id,
    stripeCustomerId: row.stripe_customer_id,
    email: row.email,
    displayName: row.display_name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

async function one(db: Queryable, sql: string, values: unknown[]): Promise<Customer | null> {
  const { rows } = await db.query<CustomerRow>(sql, values);
  return rows[0] ? fromRow(rows[0]) : null;
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e.code === "23505" && e.constraint === constraint;
}

export interface CustomerFromStripe {
  readonly stripeCustomerId: string;
  readonly email?: string | null;
  readonly displayName?: string | null;
  /** The person, when known (e.g. Checkout's `client_reference_id`); an existing link is kept. */
  readonly userId?: string | null;
}

/**
 * Finds or creates the customer for a Stripe customer id. Known email and name
 * are refreshed; a user link is only ever added here, never replaced.
 */
export async function upsertCustomerByStripeId(db: Queryable, input: CustomerFromStripe): Promise<Customer> {
  try {
    const customer = await one(
      db,
      `insert into public.customers (stripe_customer_id, email, display_name, user_id)
       values ($1, $2, $3, $4)
       on conflict (stripe_customer_id) do update set
         email = coalesce(excluded.email, customers.email),
         display_name = coalesce(excluded.display_name, customers.display_name),
         user_id = coalesce(customers.user_id, excluded.user_id)
       returning *`,
      [input.stripeCustomerId, input.email ?? null, input.displayName ?? null, input.userId ?? null],
    );
    return customer as Customer;
  } catch (error) {
    if (isUniqueViolation(error, "customers_user_id_key"))
      throw new CustomerConflictError(
        `user ${input.userId} already belongs to another customer than Stripe customer ${input.stripeCustomerId}; link it by hand after checking which one is right`,
        { cause: error },
      );
    throw error;
  }
}

export interface CustomerForUser {
  readonly userId: string;
  readonly email?: string | null;
  readonly displayName?: string | null;
}

/** Finds or creates the customer row of a signed-in person (portal sign-up); email and name are refreshed. */
export async function upsertCustomerForUser(db: Queryable, input: CustomerForUser): Promise<Customer> {
  const customer = await one(
    db,
    `insert into public.customers (user_id, email, display_name)
     values ($1, $2, $3)
     on conflict (user_id) do update set
       email = coalesce(excluded.email, customers.email),
       display_name = coalesce(excluded.display_name, customers.display_name)
     returning *`,
    [input.userId, input.email ?? null, input.displayName ?? null],
  );
  return customer as Customer;
}

export function findCustomerById(db: Queryable, id: string): Promise<Customer | null> {
  return one(db, "select * from public.customers where id = $1", [id]);
}

export function findCustomerByStripeId(db: Queryable, stripeCustomerId: string): Promise<Customer | null> {
  return one(db, "select * from public.customers where stripe_customer_id = $1", [stripeCustomerId]);
}

export function findCustomerByUserId(db: Queryable, userId: string): Promise<Customer | null> {
  return one(db, "select * from public.customers where user_id = $1", [userId]);
}

/**
 * Links a customer to a person. Idempotent for the same pair; refuses to move
 * a customer from one person to another, or to give a person two customers.
 */
export async function linkUser(db: Queryable, customerId: string, userId: string): Promise<Customer> {
  let customer: Customer | null;
  try {
    customer = await one(
      db,
      `update public.customers set user_id = $2
       where id = $1 and (user_id is null or user_id = $2)
       returning *`,
      [customerId, userId],
    );
  } catch (error) {
    if (isUniqueViolation(error, "customers_user_id_key"))
      throw new CustomerConflictError(`user ${userId} is already linked to another customer`, {
        cause: error,
      });
    throw error;
  }
  if (customer) return customer;
  const existing = await findCustomerById(db, customerId);
  if (!existing) throw new CustomerConflictError(`customer ${customerId} does not exist`);
  throw new CustomerConflictError(
    `customer ${customerId} is linked to another user (${existing.userId}); unlink it first if the move is intended`,
  );
}

/**
 * Records the Stripe customer created for a portal customer. Idempotent for the
 * same id; refuses to replace a different one (that would orphan its subscriptions).
 */
export async function setStripeCustomerId(
  db: Queryable,
  customerId: string,
  stripeCustomerId: string,
): Promise<Customer> {
  const customer = await one(
    db,
    `update public.customers set stripe_customer_id = $2
     where id = $1 and (stripe_customer_id is null or stripe_customer_id = $2)
     returning *`,
    [customerId, stripeCustomerId],
  ).catch((error: unknown) => {
    if (isUniqueViolation(error, "customers_stripe_customer_id_key"))
      throw new CustomerConflictError(
        `Stripe customer ${stripeCustomerId} already belongs to another customer`,
        {
          cause: error,
        },
      );
    throw error;
  });
  if (customer) return customer;
  throw new CustomerConflictError(
    `customer ${customerId} does not exist or already has another Stripe customer`,
  );
}
