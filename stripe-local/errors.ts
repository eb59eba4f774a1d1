/**
 * Stripe's error shape, `{ error: { type, code, message, param } }`, as the local
 * API returns it. stripe-node classifies errors by status and `type`, so code
 * under test sees the same `StripeInvalidRequestError`/`StripeAuthenticationError`
 * it would see from api.stripe.com.
 */

export type StripeErrorType =
  | "invalid_request_error"
  | "api_error"
  | "card_error"
  | "idempotency_error"
  | "authentication_error";

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  doc_url?: string;
}

export class StripeApiError extends Error {
  override readonly name = "StripeApiError";
  readonly status: number;
  readonly body: StripeErrorBody;

  constructor(status: number, body: StripeErrorBody) {
    super(body.message);
    this.status = status;
    this.body = body;
  }

  toJSON(): { error: StripeErrorBody } {
    return { error: this.body };
  }
}

const DOCS = "https://stripe.com/docs/error-codes";

/** 404 for a path id, 400 for a parameter that names a missing object (as Stripe does). */
export function resourceMissing(kind: string, id: string, param = "id"): StripeApiError {
  return new StripeApiError(param === "id" ? 404 : 400, {
    type: "invalid_request_error",
    code: "resource_missing",
    message: `No such ${kind}: '${id}'`,
    param,
    doc_url: `${DOCS}/resource-missing`,
  });
}

export function parameterMissing(param: string): StripeApiError {
  return new StripeApiError(400, {
    type: "invalid_request_error",
    code: "parameter_missing",
    message: `Missing required param: ${param}.`,
    param,
    doc_url: `${DOCS}/parameter-missing`,
  });
}

export function parameterUnknown(param: string): StripeApiError {
  return new StripeApiError(400, {
    type: "invalid_request_error",
    code: "parameter_unknown",
    message: `Received unknown parameter: ${param}`,
    param,
    doc_url: `${DOCS}/parameter-unknown`,
  });
}

/** `code` is one of Stripe's `parameter_invalid_*` codes, or omitted (Stripe omits it for enum values). */
export function parameterInvalid(param: string, message: string, code?: string): StripeApiError {
  return new StripeApiError(400, {
    type: "invalid_request_error",
    message,
    param,
    ...(code ? { code, doc_url: `${DOCS}/${code.replaceAll("_", "-")}` } : {}),
  });
}

export function invalidRequest(message: string, param?: string, code?: string): StripeApiError {
  return new StripeApiError(400, {
    type: "invalid_request_error",
    message,
    ...(param ? { param } : {}),
    ...(code ? { code } : {}),
  });
}

export function unrecognizedUrl(method: string, path: string): StripeApiError {
  return new StripeApiError(404, {
    type: "invalid_request_error",
    message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
  });
}

export function cardDeclined(param?: string): StripeApiError {
  return new StripeApiError(402, {
    type: "card_error",
    code: "card_declined",
    decline_code: "generic_decline",
    message: "Your card was declined.",
    ...(param ? { param } : {}),
    doc_url: `${DOCS}/card-declined`,
  });
}
