/**
 * `POST /stripe/webhook`: raw body (size-limited) → signature check (`constructEvent`, with
 * tolerance) → recorded with its customer's reconcile job in one transaction, shared with the
 * events that arrive together (eventIngest.ts; duplicate id → nothing; a renewal of a settled
 * tenant → no job, renewal.ts) → 2xx once committed. The payload's state is never trusted beyond "look
 * at this customer again": the worker re-reads the subscription from Stripe.
 *
 * Statuses: 200 recorded (or already recorded: `duplicate: true`), also for types we do not act
 * on (Stripe would otherwise retry them for three days); 400 missing/bad signature, timestamp
 * outside the tolerance, malformed JSON, not an event, a value Postgres cannot store; 413 body over the limit; 503 when the
 * database cannot take the event (nothing is written; Stripe retries). 4xx and 503 leave no row
 * and no job behind.
 */
import type { IncomingMessage } from "node:http";
import type { Middleware } from "koa";
import Stripe from "stripe";
import { z } from "zod";
import { isDataException } from "../database/sqlState.ts";
import type { EventRecorder, Recorded } from "./eventIngest.ts";
import { HttpError } from "./httpError.ts";
import type { EventOutcome, WebhookMetrics } from "./metrics.ts";

export interface StripeWebhookOptions {
  /** Records verified events, with their reconcile jobs, in group-committed batches (eventIngest.ts). */
  readonly record: EventRecorder;
  /** `whsec_…` */
  readonly webhookSecret: string;
  readonly toleranceSeconds: number;
  readonly bodyLimitBytes: number;
  readonly metrics: WebhookMetrics;
}

/** Event types that concern a customer's subscription (a reconcile is queued), by prefix or exact type. */
const RECONCILE_PREFIXES = ["checkout.session.", "customer.subscription.", "invoice."] as const;
const RECONCILE_TYPES = ["customer.deleted"] as const;

export function concernsSubscription(type: string): boolean {
  return (
    (RECONCILE_TYPES as readonly string[]).includes(type) ||
    RECONCILE_PREFIXES.some((prefix) => type.startsWith(prefix))
  );
}

/** Only what ingest relies on; Stripe adds fields freely, so the rest passes through. */
const eventShape = z.looseObject({
  id: z.string().regex(/^evt_[A-Za-z0-9_]+$/, "id must be an event id (evt_…)"),
  object: z.literal("event"),
  type: z.string().regex(/^[a-z0-9_.]+$/, "type must be a Stripe event type"),
  created: z.number().int().nonnegative(),
  livemode: z.boolean(),
  data: z.looseObject({ object: z.record(z.string(), z.unknown()) }),
});
export type IngestedEvent = z.infer<typeof eventShape>;

const customerId = z.string().regex(/^cus_[A-Za-z0-9_]+$/);

/** The Stripe customer `event` is about, when it names one (any type; recorded with the event). */
export function eventCustomer(event: IngestedEvent): string | undefined {
  const object = event.data.object;
  if (object.object === "customer") return customerId.safeParse(object.id).data;
  // `customer` is an id, or the customer itself when the sender expanded it.
  const customer = object.customer;
  const id = customer && typeof customer === "object" ? (customer as Record<string, unknown>).id : customer;
  return customerId.safeParse(id).data;
}

/**
 * The body as bytes, refusing (413) past `limit` without holding more than `limit` bytes: a
 * declared length over the limit is refused before reading, a stream that runs over is cut off.
 */
export function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () =>
    new HttpError(413, "body_too_large", `request body is larger than the ${limit}-byte limit`, {
      headers: { Connection: "close" },
    });
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (error?: Error) => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", stop);
      if (error) reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Stop reading without destroying the socket, so the 413 still reaches the client;
        // `Connection: close` then discards the rest with the connection.
        req.pause();
        stop(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks, size));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", stop);
  });
}

const SIGNATURE_TIMESTAMP = /(?:^|,)\s*t=([0-9]+)/;

/** Verifies and parses; every refusal is a 400 whose code says what to fix. */
export function verifyEvent(
  raw: Buffer,
  header: string | undefined,
  secret: string,
  toleranceSeconds: number,
  nowSeconds = Math.floor(Date.now() / 1000),
): IngestedEvent {
  if (!header)
    throw new HttpError(
      400,
      "missing_signature",
      "Stripe-Signature header is missing: is this a Stripe webhook?",
    );
  let event: unknown;
  try {
    event = Stripe.webhooks.constructEvent(raw, header, secret, toleranceSeconds);
  } catch (error) {
    if (error instanceof SyntaxError)
      throw new HttpError(400, "malformed_json", "the body is not valid JSON", { cause: error });
    const timestamp = Number(SIGNATURE_TIMESTAMP.exec(header)?.[1]);
    if (Number.isFinite(timestamp) && Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
      throw new HttpError(
        400,
        "timestamp_outside_tolerance",
        `the signature's timestamp is more than ${toleranceSeconds} s from now: a replay, or a clock to fix`,
        { cause: error },
      );
    }
    throw new HttpError(
      400,
      "bad_signature",
      "the Stripe-Signature does not match the body for this endpoint's signing secret",
      { cause: error },
    );
  }
  const parsed = eventShape.safeParse(event);
  if (!parsed.success) {
    throw new HttpError(
      400,
      "invalid_event",
      `not a Stripe event: ${parsed.error.issues.map((i) => `${i.path.join(".") || "body"} ${i.message}`).join("; ")}`,
    );
  }
  return parsed.data;
}

export function stripeWebhook(options: StripeWebhookOptions): Middleware {
  const { record, metrics } = options;
  return async (ctx) => {
    const started: number = ctx.state.startedAt ?? performance.now();
    const count = (type: string, outcome: EventOutcome) => {
      metrics.events.inc({ type, outcome });
      ctx.state.outcome = outcome;
    };
    let event: IngestedEvent;
    try {
      const raw = await readRawBody(ctx.req, options.bodyLimitBytes);
      event = verifyEvent(
        raw,
        ctx.get("stripe-signature") || undefined,
        options.webhookSecret,
        options.toleranceSeconds,
      );
      ctx.state.event = { id: event.id, type: event.type };
      let outcome: Recorded;
      try {
        outcome = await record({ event, raw, requestId: ctx.state.requestId });
      } catch (error) {
        // A value Postgres refuses (SQLSTATE class 22, e.g. a \u0000 in a JSON string) fails every
        // retry the same way: the sender has to fix the event. Anything else is ours: Stripe retries.
        if (isDataException(error))
          throw new HttpError(400, "unstorable_event", "the event holds a value the database cannot store", {
            cause: error,
          });
        throw new HttpError(503, "unavailable", "the event could not be recorded; Stripe will retry it", {
          cause: error,
        });
      }
      count(event.type, outcome);
      metrics.ingestSeconds.observe({ outcome }, (performance.now() - started) / 1000);
      ctx.status = 200;
      ctx.body = outcome === "duplicate" ? { received: true, duplicate: true } : { received: true };
    } catch (error) {
      const type = ctx.state.event?.type ?? "unknown";
      if (error instanceof HttpError) {
        count(type, error.status >= 500 ? "failed" : "rejected");
        if (error.status >= 500)
          metrics.ingestSeconds.observe({ outcome: "failed" }, (performance.now() - started) / 1000);
      }
      throw error;
    }
  };
}
