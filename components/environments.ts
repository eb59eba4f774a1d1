/** The platform's environments; in production, production rules hold for every tenant. */
export const ENVIRONMENTS = ["production", "staging", "test"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export function isEnvironment(value: string): value is Environment {
  return (ENVIRONMENTS as readonly string[]).includes(value);
}
