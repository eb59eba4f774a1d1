/**
 * A preview from the automation layer (`mindroom-ops diff --json`) rendered as a diff: one line per
 * resource that would change, with the properties that change under it. Tolerates the CLI printing a
 * single result or a list of them.
 */
import { For, Show } from "solid-js";

interface Step {
  resource?: string;
  type?: string;
  op?: string;
  changes?: { path?: string; kind?: string }[];
}

interface Result {
  tenant?: string;
  status?: string;
  changes?: Record<string, number>;
  steps?: Step[];
  policyViolations?: { policy?: string; message?: string; level?: string }[];
  error?: { message?: string };
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
                        <For each={s.changes ?? []}>
                          {(c) => (
                            <>
                              <span class={cls}>
                                {"    "}
                                {c.kind === "ADD" ? "+" : c.kind === "DELETE" ? "-" : "~"} {c.path}
                              </span>
                              {"\n"}
                            </>
                          )}
                        </For>
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
                      {v.level}: {v.policy} — {v.message}
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
