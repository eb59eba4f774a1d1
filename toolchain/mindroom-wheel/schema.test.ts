/**
 * The committed config schema against the MindRoom wheel it was read from: the
 * wheel is downloaded once (cached in the tools folder) and its models read
 * again; any field added, removed or retyped upstream makes them differ.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "./configSchema.ts";
import { SCHEMA_PATH, schemaFromWheel } from "./extract.ts";
import { logicalLines, parseExpr, splitAnnotated } from "./pythonSource.ts";
import { pinnedVersion, unpackedWheel } from "./wheel.ts";

type Defs = Record<string, { properties: Record<string, unknown>; required?: string[] }>;

let wheel: string;
let copy: string;

beforeAll(() => {
  wheel = unpackedWheel();
  copy = mkdtempSync(join(tmpdir(), "mindroom-wheel-"));
  cpSync(join(wheel, "mindroom"), join(copy, "mindroom"), { recursive: true });
}, 300_000);

afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe("the committed MindRoom config schema", () => {
  it("is exactly what the pinned wheel's config models say", () => {
    const committed = JSON.parse(readFileSync(SCHEMA_PATH, "utf8"));
    expect(committed["x-mindroom-version"]).toBe(pinnedVersion());
    expect(schemaFromWheel(wheel, pinnedVersion())).toEqual(committed);
  });

  it("no longer matches when a field is added, removed or retyped upstream", () => {
    const agent = join(copy, "mindroom", "config", "agent.py");
    const source = readFileSync(agent, "utf8");
    const edited = source
      .replace(
        '    display_name: str = Field(description="Human-readable name for the agent")\n',
        '    display_name: str = Field(description="Human-readable name for the agent")\n    temperature: float = 0.7\n',
      )
      .replace(/\n {4}role: str = Field\([\s\S]*?\n {4}\)\n/, "\n")
      .replace("    skills: list[str] = Field(", "    skills: list[int] = Field(");
    expect(edited).not.toBe(source);
    writeFileSync(agent, edited);
    const changed = schemaFromWheel(copy, pinnedVersion());
    const before = JSON.parse(readFileSync(SCHEMA_PATH, "utf8")) as { $defs: Defs };
    const after = (changed as { $defs: Defs }).$defs.AgentConfig;
    expect(Object.keys(after?.properties ?? {})).toContain("temperature");
    expect(Object.keys(after?.properties ?? {})).not.toContain("role");
    expect(after?.properties.skills).toEqual({ type: "array", items: { type: "integer" } });
    expect(before.$defs.AgentConfig?.properties.skills).toEqual({ type: "array", items: { type: "string" } });
    expect(changed).not.toEqual(before);
  });
});

describe("reading pydantic models from source", () => {
  it("joins logical lines and keeps strings whole", () => {
    const lines = logicalLines(
      'class A(BaseModel):\n    """Doc\n    string."""\n\n    x: dict[\n        str, int\n    ] = {}  # comment\n    y: str = "a#b"\n',
    );
    expect(lines.map((l) => [l.indent, l.text])).toEqual([
      [0, "class A(BaseModel):"],
      [4, '"""Doc\n    string."""'],
      [4, "x: dict[ str, int ] = {}"],
      [4, 'y: str = "a#b"'],
    ]);
  });

  it("parses annotations and splits defaults at the top level", () => {
    expect(splitAnnotated('x: Literal["a", "b"] | None = Field(default=None, alias="X")')).toEqual({
      name: "x",
      annotation: 'Literal["a", "b"] | None',
      value: 'Field(default=None, alias="X")',
    });
    expect(parseExpr("list[Annotated[int, Field(ge=0)]]")).toMatchObject({
      kind: "subscript",
      target: "list",
      args: [{ kind: "subscript", target: "Annotated" }],
    });
  });

  it("knows required fields, aliases, inheritance, enums, aliases of types and extra", () => {
    const { schema, unresolved } = configSchema([
      {
        path: "mindroom/config/x.py",
        source: [
          "from enum import Enum",
          'Mode = Literal["a", "b"]',
          "class Color(str, Enum):",
          '    RED = "red"',
          '    BLUE = "blue"',
          "class Base(BaseModel):",
          '    model_config = ConfigDict(extra="forbid")',
          "    name: str",
          "class Config(Base):",
          "    count: int = Field(..., ge=0)",
          '    label: str | None = Field(default=None, alias="Label")',
          '    mode: Mode = "a"',
          "    color: Color = Color.RED",
          "    child: 'Base | None' = None",
          "    other: Unknown = None",
          "    _private: int = 0",
          "    CONST: ClassVar[int] = 3",
        ].join("\n"),
      },
    ]);
    expect(unresolved).toEqual(["Unknown"]);
    expect((schema.$defs as Record<string, unknown>).Config).toEqual({
      type: "object",
      properties: {
        name: { type: "string" },
        count: { type: "integer" },
        Label: { anyOf: [{ type: "string" }, { type: "null" }] },
        mode: { enum: ["a", "b"] },
        color: { enum: ["red", "blue"] },
        child: { anyOf: [{ $ref: "#/$defs/Base" }, { type: "null" }] },
        other: {},
      },
      required: ["name", "count"],
      additionalProperties: false,
      "x-source": "mindroom/config/x.py",
    });
  });
});
