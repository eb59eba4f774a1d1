/**
 * The JSON schema of MindRoom's configuration, read from the pydantic models in
 * the wheel's `mindroom/config/*.py` (never imported: pythonSource.ts). Every
 * model class becomes a `$defs` entry with its fields (their YAML keys: the
 * alias when a field has one), which are required (no default), and whether
 * other keys are refused (`extra="forbid"`, or ignored: both mean a key the
 * model does not define, so both are `additionalProperties: false` here; only
 * `extra="allow"` lets other keys through). Types follow the annotations;
 * names the config modules do not define are listed in `x-unresolved` and
 * accept anything.
 */
import { type Expr, logicalLines, parseExpr, splitAnnotated } from "./pythonSource.ts";

export type JsonSchema = { readonly [key: string]: unknown };

interface PyField {
  readonly key: string;
  readonly annotation: Expr;
  readonly required: boolean;
}

interface PyClass {
  readonly name: string;
  readonly file: string;
  readonly bases: readonly Expr[];
  readonly fields: readonly PyField[];
  readonly extra: string | undefined;
  readonly members: readonly (string | number)[];
}

export interface SourceFile {
  /** Path inside the wheel, e.g. `mindroom/config/agent.py`. */
  readonly path: string;
  readonly source: string;
}

const MODEL_BASES = new Set(["BaseModel", "pydantic.BaseModel"]);
const ENUM_BASES = new Set(["Enum", "StrEnum", "IntEnum", "enum.Enum", "enum.StrEnum"]);
const ARRAYS = new Set([
  "list",
  "List",
  "Sequence",
  "tuple",
  "Tuple",
  "set",
  "Set",
  "frozenset",
  "FrozenSet",
  "Iterable",
  "typing.Sequence",
]);
const MAPS = new Set(["dict", "Dict", "Mapping", "MutableMapping", "typing.Mapping"]);
const PRIMITIVES: Record<string, JsonSchema> = {
  str: { type: "string" },
  int: { type: "integer" },
  float: { type: "number" },
  bool: { type: "boolean" },
  bytes: { type: "string" },
  Path: { type: "string" },
  datetime: { type: "string" },
  date: { type: "string" },
  SecretStr: { type: "string" },
  StrictStr: { type: "string" },
  HttpUrl: { type: "string" },
  AnyUrl: { type: "string" },
  AnyHttpUrl: { type: "string" },
  EmailStr: { type: "string" },
  StrictInt: { type: "integer" },
  PositiveInt: { type: "integer" },
  NonNegativeInt: { type: "integer" },
  StrictBool: { type: "boolean" },
  PositiveFloat: { type: "number" },
  NonNegativeFloat: { type: "number" },
  Any: {},
  object: {},
  Json: {},
};

function nameOf(expr: Expr): string | undefined {
  if (expr.kind === "name") return expr.name;
  if (expr.kind === "subscript" || expr.kind === "call") return expr.target;
  return undefined;
}

/** `Field(...)`'s say on whether a field is required, and its alias. */
function fieldInfo(value: string | undefined): { required: boolean; alias: string | undefined } {
  if (value === undefined) return { required: true, alias: undefined };
  const expr = parseExpr(value);
  if (expr.kind !== "call" || !["Field", "pydantic.Field"].includes(expr.target))
    return { required: false, alias: undefined };
  const first = expr.args[0];
  const hasDefault =
    "default" in expr.kwargs ||
    "default_factory" in expr.kwargs ||
    (first !== undefined && !(first.kind === "const" && first.value === "..."));
  const aliasExpr = expr.kwargs.validation_alias ?? expr.kwargs.alias;
  const alias = aliasExpr?.kind === "string" ? aliasExpr.value : undefined;
  return { required: !hasDefault || (first?.kind === "const" && first.value === "..."), alias };
}

/** Classes and type aliases defined at the top level of the given files. */
export function readDefinitions(files: readonly SourceFile[]): {
  classes: Map<string, PyClass>;
  aliases: Map<string, Expr>;
} {
  const classes = new Map<string, PyClass>();
  const aliases = new Map<string, Expr>();
  for (const file of files) {
    const lines = logicalLines(file.source);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as (typeof lines)[number];
      if (line.indent !== 0) continue;
      const alias =
        /^type\s+([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]]*\])?\s*=\s*([\s\S]+)$/.exec(line.text) ??
        /^([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*TypeAlias\s*)?=\s*([\s\S]+)$/.exec(line.text);
      if (alias) {
        aliases.set(alias[1] as string, parseExpr(alias[2] as string));
        continue;
      }
      const head = /^class\s+([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[[^\]]*\])?\s*(?:\(([\s\S]*)\))?\s*:$/.exec(
        line.text,
      );
      if (!head) continue;
      const bases = head[2] ? flattenBases(parseExpr(`(${head[2]},)`)) : [];
      const fields: PyField[] = [];
      const members: (string | number)[] = [];
      let extra: string | undefined;
      let bodyIndent = -1;
      for (let j = i + 1; j < lines.length; j++) {
        const body = lines[j] as (typeof lines)[number];
        if (body.indent === 0) break;
        if (bodyIndent < 0) bodyIndent = body.indent;
        if (body.indent !== bodyIndent) continue;
        const config = /^model_config\s*(?::[^=]*)?=\s*([\s\S]+)$/.exec(body.text);
        if (config) {
          const call = parseExpr(config[1] as string);
          const e = call.kind === "call" ? call.kwargs.extra : undefined;
          if (e?.kind === "string") extra = e.value;
          continue;
        }
        const member = /^([A-Z][A-Z0-9_]*)\s*=\s*([\s\S]+)$/.exec(body.text);
        if (member) {
          const value = parseExpr(member[2] as string);
          if (value.kind === "string" || value.kind === "number") members.push(value.value);
          continue;
        }
        const field = splitAnnotated(body.text);
        if (!field || field.name.startsWith("_") || field.name === "model_config") continue;
        const annotation = parseExpr(field.annotation);
        if (nameOf(annotation) === "ClassVar" || nameOf(annotation) === "typing.ClassVar") continue;
        const info = fieldInfo(field.value);
        fields.push({ key: info.alias ?? field.name, annotation, required: info.required });
      }
      classes.set(head[1] as string, {
        name: head[1] as string,
        file: file.path,
        bases,
        fields,
        extra,
        members,
      });
    }
  }
  return { classes, aliases };
}

function flattenBases(expr: Expr): Expr[] {
  return expr.kind === "tuple" ? [...expr.items] : [expr];
}

/** The JSON schema of `root` and every model it reaches. */
export function configSchema(
  files: readonly SourceFile[],
  root = "Config",
): {
  schema: JsonSchema;
  unresolved: string[];
} {
  const { classes, aliases } = readDefinitions(files);
  const defs: Record<string, JsonSchema> = {};
  const unresolved = new Set<string>();
  const resolving = new Set<string>();

  const isModel = (name: string, seen = new Set<string>()): boolean => {
    const c = classes.get(name);
    if (!c || seen.has(name)) return false;
    seen.add(name);
    return c.bases.some((b) => {
      const base = nameOf(b) ?? "";
      return MODEL_BASES.has(base) || base === "RootModel" || isModel(base, seen);
    });
  };
  const isEnum = (name: string) =>
    classes.get(name)?.bases.some((b) => ENUM_BASES.has(nameOf(b) ?? "")) === true;

  /** A model's fields, its bases' first (pydantic's order). */
  const fieldsOf = (name: string, seen = new Set<string>()): PyField[] => {
    const c = classes.get(name);
    if (!c || seen.has(name)) return [];
    seen.add(name);
    const inherited = c.bases.flatMap((b) => fieldsOf(nameOf(b) ?? "", seen));
    const own = new Map(c.fields.map((f) => [f.key, f]));
    return [...inherited.filter((f) => !own.has(f.key)), ...c.fields];
  };
  const extraOf = (name: string, seen = new Set<string>()): string | undefined => {
    const c = classes.get(name);
    if (!c || seen.has(name)) return undefined;
    seen.add(name);
    return c.extra ?? c.bases.map((b) => extraOf(nameOf(b) ?? "", seen)).find((e) => e !== undefined);
  };

  const define = (name: string): JsonSchema => {
    if (!(name in defs) && !resolving.has(name)) {
      resolving.add(name);
      const c = classes.get(name) as PyClass;
      const root = c.bases.find((b) => nameOf(b) === "RootModel");
      if (root?.kind === "subscript" && root.args[0]) {
        defs[name] = { ...toSchema(root.args[0]), "x-source": c.file };
      } else {
        const fields = fieldsOf(name);
        const properties: Record<string, JsonSchema> = {};
        for (const f of fields) properties[f.key] = toSchema(f.annotation);
        const required = fields.filter((f) => f.required).map((f) => f.key);
        defs[name] = {
          type: "object",
          properties,
          ...(required.length ? { required } : {}),
          additionalProperties: extraOf(name) === "allow",
          "x-source": c.file,
        };
      }
      resolving.delete(name);
    }
    return { $ref: `#/$defs/${name}` };
  };

  const union = (options: readonly Expr[]): JsonSchema => {
    const schemas = options.map(toSchema);
    if (schemas.some((s) => Object.keys(s).length === 0)) return {};
    const unique = [...new Map(schemas.map((s) => [JSON.stringify(s), s])).values()];
    return unique.length === 1 ? (unique[0] as JsonSchema) : { anyOf: unique };
  };

  function toSchema(expr: Expr): JsonSchema {
    switch (expr.kind) {
      case "const":
        return expr.value === null ? { type: "null" } : {};
      case "string":
        // A forward reference.
        return toSchema(parseExpr(expr.value));
      case "union":
        return union(expr.options);
      case "tuple":
        return union(expr.items);
      case "name":
        return named(expr.name);
      case "call":
        if (["conint"].includes(expr.target)) return { type: "integer" };
        if (["confloat"].includes(expr.target)) return { type: "number" };
        if (["constr"].includes(expr.target)) return { type: "string" };
        unresolved.add(`${expr.target}(...)`);
        return {};
      case "subscript":
        return subscript(expr.target, expr.args);
      default:
        return {};
    }
  }

  function named(name: string): JsonSchema {
    const short = name.replace(/^(typing|pydantic|pathlib|datetime)\./, "");
    if (short in PRIMITIVES) return PRIMITIVES[short] as JsonSchema;
    if (isModel(short)) return define(short);
    if (isEnum(short)) return { enum: classes.get(short)?.members ?? [] };
    const alias = aliases.get(short);
    if (alias && !resolving.has(`alias:${short}`)) {
      resolving.add(`alias:${short}`);
      const schema = toSchema(alias);
      resolving.delete(`alias:${short}`);
      return schema;
    }
    unresolved.add(short);
    return {};
  }

  function subscript(target: string, args: readonly Expr[]): JsonSchema {
    const short = target.replace(/^(typing|collections\.abc)\./, "");
    if (ARRAYS.has(short)) {
      const items = args.filter((a) => !(a.kind === "const" && a.value === "..."));
      return { type: "array", ...(items.length ? { items: union(items) } : {}) };
    }
    if (MAPS.has(short)) {
      const value = args[1] ? toSchema(args[1]) : {};
      return { type: "object", additionalProperties: Object.keys(value).length ? value : true };
    }
    if (short === "Optional") return union([...(args as Expr[]), { kind: "const", value: null }]);
    if (short === "Union") return union(args);
    if (short === "Literal") {
      return {
        enum: args.flatMap((a): (string | number | boolean | null)[] =>
          a.kind === "string" || a.kind === "number"
            ? [a.value]
            : a.kind === "const" && a.value !== "..."
              ? [a.value]
              : [],
        ),
      };
    }
    if (["Annotated", "Required", "NotRequired", "ReadOnly"].includes(short))
      return args[0] ? toSchema(args[0]) : {};
    if (["type", "Type", "Callable"].includes(short)) return {};
    unresolved.add(`${short}[...]`);
    return {};
  }

  if (!isModel(root)) throw new Error(`no pydantic model ${root} in the config modules`);
  define(root);
  const sorted = Object.fromEntries(
    Object.keys(defs)
      .sort()
      .map((k) => [k, defs[k]]),
  );
  return {
    schema: { $ref: `#/$defs/${root}`, $defs: sorted },
    unresolved: [...unresolved].sort(),
  };
}
