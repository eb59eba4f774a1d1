import { describe, expect, it } from "vitest";
import { z } from "zod";
import { StripeApiError } from "./errors.ts";
import { formInt, metadataParam, nonEmpty, paramName, parseForm, parseParams } from "./params.ts";

function errorOf(fn: () => unknown): StripeApiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StripeApiError) return error;
    throw error;
  }
  throw new Error("expected a StripeApiError");
}

describe("parseForm", () => {
  it("builds nested objects and arrays from Stripe's bracket notation", () => {
    const text =
      "customer=cus_1&items[0][price]=price_a&items[0][quantity]=2&items[1][price]=price_b" +
      "&expand[]=latest_invoice&expand[]=customer&metadata[tier]=starter&metadata[0]=zero" +
      "&subscription_data[trial_period_days]=7&email=a%2Bb%40example.com&name=Ann+Lee";
    expect(parseForm(text)).toEqual({
      customer: "cus_1",
      items: [{ price: "price_a", quantity: "2" }, { price: "price_b" }],
      expand: ["latest_invoice", "customer"],
      metadata: { tier: "starter", "0": "zero" },
      subscription_data: { trial_period_days: "7" },
      email: "a+b@example.com",
      name: "Ann Lee",
    });
  });

  it("reads stripe-node's indexed arrays and percent-encoded brackets alike", () => {
    expect(parseForm("expand[0]=a&expand[1]=b")).toEqual({ expand: ["a", "b"] });
    expect(parseForm("expand%5B0%5D=a")).toEqual({ expand: ["a"] });
  });

  it("names nested parameters the way Stripe's errors do", () => {
    expect(paramName(["items", 0, "price"])).toBe("items[0][price]");
  });
});

describe("parseParams", () => {
  const schema = z.strictObject({
    customer: nonEmpty,
    items: z.array(z.strictObject({ price: nonEmpty, quantity: formInt.optional() })),
    metadata: metadataParam.optional(),
    proration_behavior: z.enum(["always_invoice", "create_prorations", "none"]).optional(),
  });

  it("reports a missing parameter by its Stripe name", () => {
    const error = errorOf(() => parseParams(schema, parseForm("items[0][quantity]=1&customer=c")));
    expect(error.status).toBe(400);
    expect(error.body).toMatchObject({ code: "parameter_missing", param: "items[0][price]" });
    expect(error.body.message).toBe("Missing required param: items[0][price].");
  });

  it("rejects unknown parameters", () => {
    const error = errorOf(() => parseParams(schema, parseForm("customer=c&items[0][price]=p&colour=red")));
    expect(error.body).toMatchObject({ code: "parameter_unknown", param: "colour" });
  });

  it("rejects a non-integer and names it", () => {
    const error = errorOf(() =>
      parseParams(schema, parseForm("customer=c&items[0][price]=p&items[0][quantity]=two")),
    );
    expect(error.body).toMatchObject({ code: "parameter_invalid_integer", param: "items[0][quantity]" });
  });

  it("lists the allowed values of an enum", () => {
    const error = errorOf(() =>
      parseParams(schema, parseForm("customer=c&items[0][price]=p&proration_behavior=sometimes")),
    );
    expect(error.body.message).toBe(
      "Invalid proration_behavior: must be one of always_invoice, create_prorations, or none",
    );
  });

  it("refuses an empty string where a value cannot be unset", () => {
    const error = errorOf(() => parseParams(schema, parseForm("customer=&items[0][price]=p")));
    expect(error.body).toMatchObject({ code: "parameter_invalid_empty", param: "customer" });
  });

  it("accepts metadata= as clearing all metadata", () => {
    expect(parseParams(schema, parseForm("customer=c&items[0][price]=p&metadata=")).metadata).toBe("");
  });
});
