/**
 * Plain data (objects, arrays, strings, numbers, booleans, null) as a YAML
 * document in block style, for the configuration files tenants' apps read
 * (Synapse's homeserver.yaml, appservice registrations, bridge and MindRoom
 * configs). Every string is written double-quoted with JSON's escapes, which
 * YAML reads back verbatim, so no value can change the document's structure.
 */
export type YamlValue =
  | string
  | number
  | boolean
  | null
  | readonly YamlValue[]
  | { readonly [key: string]: YamlValue | undefined };

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function scalar(value: string | number | boolean | null): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`YAML cannot hold ${value}`);
    return String(value);
  }
  return JSON.stringify(value);
}

function key(name: string): string {
  return PLAIN_KEY.test(name) ? name : JSON.stringify(name);
}

function isEmpty(value: YamlValue): boolean {
  return Array.isArray(value)
    ? value.length === 0
    : typeof value === "object" && value !== null && Object.keys(value).length === 0;
}

function block(value: YamlValue, indent: string): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item: YamlValue) => {
      if (typeof item !== "object" || item === null || isEmpty(item)) return [`${indent}- ${inline(item)}`];
      const [first = "", ...rest] = block(item, `${indent}  `);
      return [`${indent}- ${first.trimStart()}`, ...rest];
    });
  }
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([name, item]) => {
      if (item === undefined) return [];
      if (typeof item !== "object" || item === null || isEmpty(item))
        return [`${indent}${key(name)}: ${inline(item)}`];
      return [`${indent}${key(name)}:`, ...block(item, `${indent}  `)];
    });
  }
  return [`${indent}${scalar(value)}`];
}

function inline(value: YamlValue): string {
  if (Array.isArray(value)) return "[]";
  if (typeof value === "object" && value !== null) return "{}";
  return scalar(value);
}

/** The document, ending in a newline. */
export function toYaml(value: { readonly [key: string]: YamlValue | undefined }): string {
  return `${block(value, "").join("\n")}\n`;
}
