/**
 * A preview from the automation layer (`mindroom-ops diff --json`) rendered as a diff, like
 * `pulumi preview --diff`: one line per resource that would change, and under it every changed
 * property with its old and new value (masked by the automation layer where secret). Scripts show
 * as a line diff around the change. Tolerates the CLI printing a single result or a list of them.
 */
import { For, Show } from "solid-js";
import { changeLines } from "../../../automation/diffText.ts";

interface Change {
  path?: string;
  kind?: string;
  old?: unknown;
  new?: unknown;
}

interface Step {
  resource?: string;
  type?: string;
  op?: string;
  changes?: Change[];
}

interface Result {
  tenant?: string;
  status?: string;
  changes?: Record<string, number>;
  steps?: Step[];
  policyViolations?: { policy?: string; message?: string; level?: string; resource?: string }[];
  error?: { message?: string };
}

const LINE_CLASS: Record<string, string> = { "+": "add", "-": "del", "~": "chg", " ": "muted" };

/** A property's change: `~ path: old ⇒ new` on one line, or the path with a line diff under it. */
function PropertyLines(props: { change: Change }) {
  const kind = () => props.change.kind ?? "update";
  const sign = () => (kind().startsWith("add") ? "+" : kind().startsWith("delete") ? "-" : "~");
  const lines = () => changeLines(props.change.old, props.change.new);
  return (
    <Show
      when={lines().length === 1 ? lines()[0] : undefined}
      fallback={
        <>
          <span class={LINE_CLASS[sign()]}>
            {"    "}
            {sign()} {props.change.path}:
          </span>
          {"\n"}
          <For each={lines()}>
            {(l) => (
              <>
                <span class={LINE_CLASS[l.sign]}>
                  {"        "}
                  {l.sign} {l.text}
                </span>
                {"\n"}
              </>
            )}
          </For>
        </>
      }
    >
      {(line) => (
        <>
          <span class={LINE_CLASS[sign()]}>
            {"    "}
            {sign()} {props.change.path}: {line().text}
          </span>
          {"\n"}
        </>
      )}
    </Show>
  );
}

const SIGN: Record<string, [string, string]> = {
  create: ["+", "add"],
  update: ["~", "chg"],
  delete: ["-", "del"],
  replace: ["±", "chg"],
  "create-replacement": ["+", "add"],
  "delete-replaced": ["-", "del"],
};

function results(preview: unknown): Result[] {
  const list = Array.isArray(preview) ? preview : [preview];
  return list.filter((r): r is Result => Boolean(r) && typeof r === "object");
}

export default function PlanDiff(props: { preview: unknown }) {
  return (
    <For each={results(props.preview)}>
      {(r) => {
        const steps = (r.steps ?? []).filter((s) => s.op && s.op !== "same" && s.op !== "read");
        const summary = Object.entries(r.changes ?? {})
          .map(([k, v]) => `${v} ${k}`)
          .join(", ");
        return (
          <div class="stack" data-testid="preview-diff">
            <p class="small">
              <strong>{r.status ?? "done"}</strong>
              <Show when={summary}> · {summary}</Show>
            </p>
            <Show when={r.error?.message}>
              <p class="error-text">{r.error?.message}</p>
            </Show>
            <Show
              when={steps.length > 0}
              fallback={<p class="muted">No changes: the tenant matches its spec.</p>}
            >
              <section class="diff" aria-label="Planned changes" tabindex="0">
                <For each={steps}>
                  {(s) => {
                    const [sign, cls] = SIGN[s.op ?? ""] ?? ["?", "chg"];
                    return (
                      <>
                        <span class={cls}>
                          {sign} {s.resource} <span class="muted">({s.type})</span>
                        </span>
                        {"\n"}
                        <For each={s.changes ?? []}>{(c) => <PropertyLines change={c} />}</For>
                      </>
                    );
                  }}
                </For>
              </section>
            </Show>
            <Show when={(r.policyViolations ?? []).length > 0}>
              <ul class="small">
                <For each={r.policyViolations}>
                  {(v) => (
                    <li class="error-text">
                      {v.level}: {v.policy}
                      <Show when={v.resource}> ({v.resource})</Show> — {v.message}
                    </li>
                  )}
                </For>
              </ul>
            </Show>
          </div>
        );
      }}
    </For>
  );
}
