/**
 * The overall outcome of a form submission, announced politely (success) or assertively (failure).
 * A thrown string is a sentence the server wrote for people (the rate limiter's 429, or the plain
 * sentence server/serverFunctionErrors.ts puts in place of any failure); anything else thrown gets
 * a generic apology, never its own text.
 */
import { Show } from "solid-js";
import type { FormResult } from "../lib/formResult.ts";

export default function FormNotice(props: { result: FormResult | undefined; error?: unknown }) {
  return (
    <>
      <Show when={props.result}>
        {(r) => (
          <p class={`notice ${r().ok ? "notice-ok" : "notice-bad"}`} role={r().ok ? "status" : "alert"}>
            {r().message}
          </p>
        )}
      </Show>
      <Show when={props.error}>
        <p class="notice notice-bad" role="alert">
          {typeof props.error === "string"
            ? props.error
            : "Something went wrong on our side. Please try again in a moment."}
        </p>
      </Show>
    </>
  );
}
