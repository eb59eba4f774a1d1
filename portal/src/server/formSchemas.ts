/** The zod schemas of the portal's forms; their messages are what people read next to a field. */
import { z } from "zod";
import { TIER_IDS } from "../../../components/tiers.ts";
import { landingPageSchema } from "./redirects.ts";

const email = z
  .string({ error: "Enter your email address." })
  .trim()
  .min(1, "Enter your email address.")
  .max(254, "That email address is too long.")
  .email("Enter a valid email address, like name@example.com.");

const password = z
  .string({ error: "Enter your password." })
  .min(1, "Enter your password.")
  .max(72, "Passwords are limited to 72 characters.");

/** Where to go after signing in: only a known portal page (server/redirects.ts), else the dashboard. */
const next = landingPageSchema;

export const signInSchema = z.object({ email, password, next });

/** A password being chosen (sign-up, a new password), typed twice. */
const chosenPassword = {
  password: z
    .string({ error: "Choose a password." })
    .min(8, "Use at least 8 characters for your password.")
    .max(72, "Passwords are limited to 72 characters."),
  confirm: z.string({ error: "Repeat your password." }).min(1, "Repeat your password."),
};

function typedTwice(v: { password: string; confirm: string }): boolean {
  return v.password === v.confirm;
}
const MISMATCH = { path: ["confirm"], message: "The two passwords do not match." };

export const signUpSchema = z
  .object({
    email,
    ...chosenPassword,
    name: z.string().trim().max(80, "Names are limited to 80 characters.").optional(),
  })
  .refine(typedTwice, MISMATCH);

export const newPasswordSchema = z.object(chosenPassword).refine(typedTwice, MISMATCH);

export const magicLinkSchema = z.object({ email, next });

export const passwordResetSchema = z.object({ email });

export const planSchema = z.object({
  tier: z.enum(TIER_IDS, { error: "Choose one of the plans." }),
});

const reason = z
  .string({ error: "Say why: it goes into the audit log." })
  .trim()
  .min(4, "Say why in a few words (at least 4 characters): it goes into the audit log.")
  .max(500, "Keep the reason under 500 characters.");

export const operatorActionSchema = z.object({
  instanceId: z.uuid("That tenant id is not valid."),
  reason,
});

export const deadLetterRetrySchema = operatorActionSchema.extend({
  deadLetterId: z.string().trim().min(1, "Choose the failed job to retry.").max(100),
});

export const confirmDeletionSchema = z.object({
  confirm: z.literal("DELETE", { error: "Type DELETE in capitals to confirm." }),
});

export const instanceActionSchema = z.object({
  action: z.enum(["restart", "retry"], { error: "Choose restart or re-run provisioning." }),
});
