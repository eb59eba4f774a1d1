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

export const signUpSchema = z
  .object({
    email,
    password: z
      .string({ error: "Choose a password." })
      .min(8, "Use at least 8 characters for your password.")
      .max(72, "Passwords are limited to 72 characters."),
    confirm: z.string({ error: "Repeat your password." }).min(1, "Repeat your password."),
    name: z.string().trim().max(80, "Names are limited to 80 characters.").optional(),
  })
  .refine((v) => v.password === v.confirm, { path: ["confirm"], message: "The two passwords do not match." });

export const magicLinkSchema = z.object({ email, next });

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
