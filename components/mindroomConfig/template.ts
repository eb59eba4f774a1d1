/**
 * The MindRoom configuration a new tenant starts from: as many agents as its
 * tier allows (tiers.ts), each with a distinct job and sensible defaults, one
 * model per provider a customer can bring a key for, and the bridges' bots
 * known as bots. Only fields MindRoom's config models define (checked against
 * configSchema.json, read from the wheel). The runtime copies it to its
 * writable config.yaml on first start only (MINDROOM_CONFIG_TEMPLATE), so a
 * customer's own edits in the dashboard are never overwritten.
 */
import { BRIDGES } from "../bridges.ts";
import type { TenantSpec } from "../tenantSpec.ts";
import { tier, UNLIMITED } from "../tiers.ts";
import type { YamlValue } from "../yamlDocument.ts";

export type MindRoomConfig = { readonly [key: string]: YamlValue };

interface AgentTemplate {
  readonly id: string;
  readonly display_name: string;
  readonly role: string;
  readonly instructions: readonly string[];
}

/** In the order tiers get them: the first is every tenant's, the tenth only Professional and up. */
export const AGENT_TEMPLATES: readonly AgentTemplate[] = [
  {
    id: "assistant",
    display_name: "Assistant",
    role: "A general assistant that answers questions, drafts text and keeps track of tasks.",
    instructions: ["Be concise and concrete.", "Ask one clarifying question when a request is ambiguous."],
  },
  {
    id: "researcher",
    display_name: "Researcher",
    role: "Researches a topic and reports findings with their sources.",
    instructions: ["Cite where each finding comes from.", "Separate facts from your own assessment."],
  },
  {
    id: "writer",
    display_name: "Writer",
    role: "Writes and edits documents, emails and posts in the user's voice.",
    instructions: [
      "Match the tone of the examples the user gives.",
      "Offer one alternative phrasing for key sentences.",
    ],
  },
  {
    id: "coder",
    display_name: "Coder",
    role: "Writes, reviews and explains code.",
    instructions: ["Show complete, runnable code.", "Point out edge cases and how to test them."],
  },
  {
    id: "planner",
    display_name: "Planner",
    role: "Turns goals into plans with steps, owners and dates.",
    instructions: ["Keep plans short enough to act on this week."],
  },
  {
    id: "analyst",
    display_name: "Analyst",
    role: "Analyses data and numbers and explains what they mean.",
    instructions: ["State assumptions before conclusions.", "Round numbers sensibly."],
  },
  {
    id: "translator",
    display_name: "Translator",
    role: "Translates between languages, keeping tone and meaning.",
    instructions: ["Keep names, numbers and formatting unchanged."],
  },
  {
    id: "tutor",
    display_name: "Tutor",
    role: "Explains concepts step by step and checks understanding.",
    instructions: ["Start from what the user already knows."],
  },
  {
    id: "support",
    display_name: "Support",
    role: "Drafts friendly, accurate replies to customer questions.",
    instructions: ["Never promise what the user has not confirmed."],
  },
  {
    id: "summarizer",
    display_name: "Summarizer",
    role: "Summarises long threads, documents and meetings into key points and decisions.",
    instructions: ["Lead with decisions and open questions."],
  },
];

/** One model per provider a customer can bring a key for (portal: model keys); `default` is OpenRouter's. */
export const TEMPLATE_MODELS = {
  default: {
    provider: "openrouter",
    id: "anthropic/claude-sonnet-5.5",
    display_name: "Claude Sonnet (OpenRouter)",
  },
  anthropic: { provider: "anthropic", id: "claude-sonnet-5-5", display_name: "Claude Sonnet" },
  openai: { provider: "openai", id: "gpt-6-astra", display_name: "GPT-6" },
  google: { provider: "google", id: "gemini-3.8-flash", display_name: "Gemini Flash" },
} as const;

/** The agents a tier gets: its limit, or every template for an unlimited tier. */
export function agentCount(spec: Pick<TenantSpec, "tier">): number {
  const limit = tier(spec.tier).agents;
  return limit === UNLIMITED ? AGENT_TEMPLATES.length : Math.min(limit, AGENT_TEMPLATES.length);
}

export function mindroomConfig(spec: Pick<TenantSpec, "tier" | "slug" | "baseDomain">): MindRoomConfig {
  const serverName = `${spec.slug}.${spec.baseDomain}`;
  const agents = Object.fromEntries(
    AGENT_TEMPLATES.slice(0, agentCount(spec)).map((a) => [
      a.id,
      {
        display_name: a.display_name,
        role: a.role,
        model: "default",
        rooms: ["lobby"],
        instructions: [...a.instructions],
      },
    ]),
  );
  return {
    agents,
    models: TEMPLATE_MODELS,
    router: { model: "default" },
    defaults: { markdown: true, enable_streaming: true },
    timezone: "UTC",
    // Bridge bots post on behalf of people in other networks; treat them as bots, not humans.
    bot_accounts: Object.values(BRIDGES).map((b) => `@${b.botLocalpart}:${serverName}`),
  };
}
