/**
 * Checks a value against the JSON schema read from MindRoom's config models
 * (configSchema.json): the subset that file uses (`$ref`, `anyOf`, `enum`,
 * `type`, `properties`, `required`, `additionalProperties`, `items`). Returns
 * every problem with its path; an empty list means every key is one a model
 * defines, with a value of the type the model declares.
 */
import schemaDocument from "./configSchema.json" with { type: "json" };

type Schema = { readonly [key: string]: unknown };

export const MINDROOM_CONFIG_SCHEMA = schemaDocument as Schema;

function typeMatches(type: string, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    case "null":
      return value === null;
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    default:
      return false;
  }
}

function resolve(root: Schema, schema: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== "string") return schema;
  const name = ref.replace(/^#\/\$defs\//, "");
  const target = (root.$defs as Record<string, Schema> | undefined)?.[name];
  if (!target) throw new Error(`schema reference ${ref} is not defined`);
  return resolve(root, target);
}

export function schemaProblems(
  value: unknown,
  schema: Schema = MINDROOM_CONFIG_SCHEMA,
  root: Schema = schema,
  path = "$",
): string[] {
  const s = resolve(root, schema);
  if (Array.isArray(s.anyOf)) {
    const options = s.anyOf as Schema[];
    const results = options.map((option) => schemaProblems(value, option, root, path));
    if (results.some((r) => r.length === 0)) return [];
    return [
      `${path}: matches none of ${options.length} allowed shapes (${results.map((r) => r[0]).join("; ")})`,
    ];
  }
  if (Array.isArray(s.enum) && !s.enum.some((allowed) => allowed === value))
    return [`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}`];
  if (typeof s.type === "string" && !typeMatches(s.type, value))
    return [
      `${path}: expected ${s.type}, got ${value === null ? "null" : Array.isArray(value) ? "array" : typeof value}`,
    ];
  const problems: string[] = [];
  if (Array.isArray(value) && s.items) {
    for (const [i, item] of value.entries())
      problems.push(...schemaProblems(item, s.items as Schema, root, `${path}[${i}]`));
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    for (const key of (s.required ?? []) as string[])
      if (!(key in value)) problems.push(`${path}: missing required field ${key}`);
    for (const [key, item] of Object.entries(value)) {
      const child = `${path}.${key}`;
      if (key in properties) problems.push(...schemaProblems(item, properties[key] as Schema, root, child));
      else if (s.additionalProperties === false) problems.push(`${child}: not a field the model defines`);
      else if (typeof s.additionalProperties === "object")
        problems.push(...schemaProblems(item, s.additionalProperties as Schema, root, child));
    }
  }
  return problems;
}
