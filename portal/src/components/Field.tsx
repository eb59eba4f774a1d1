/**
 * A labelled form control with its hint and error wired up for assistive technology: the label is
 * a real <label for>, the error is announced and referenced by aria-describedby.
 */
import { type JSX, Show, splitProps } from "solid-js";

type InputProps = JSX.InputHTMLAttributes<HTMLInputElement> & {
  label: string;
  name: string;
  error?: string | undefined;
  hint?: string;
};

export default function Field(props: InputProps) {
  const [own, rest] = splitProps(props, ["label", "error", "hint", "id", "name"]);
  const id = () => own.id ?? `f-${own.name}`;
  const describedBy = () =>
    [own.hint ? `${id()}-hint` : "", own.error ? `${id()}-error` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div class="field">
      <label for={id()}>{own.label}</label>
      <input
        {...rest}
        id={id()}
        name={own.name}
        aria-invalid={own.error ? "true" : undefined}
        aria-describedby={describedBy()}
      />
      <Show when={own.hint}>
        <span class="hint" id={`${id()}-hint`}>
          {own.hint}
        </span>
      </Show>
      <Show when={own.error}>
        <span class="error-text" id={`${id()}-error`} role="alert">
          {own.error}
        </span>
      </Show>
    </div>
  );
}

export function ReasonField(props: { error?: string | undefined; id: string }) {
  return (
    <div class="field">
      <label for={props.id}>Reason (recorded in the audit log)</label>
      <textarea
        id={props.id}
        name="reason"
        required
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={props.error ? `${props.id}-error` : undefined}
        placeholder="e.g. customer reported the homeserver is unreachable"
      />
      <Show when={props.error}>
        <span class="error-text" id={`${props.id}-error`} role="alert">
          {props.error}
        </span>
      </Show>
    </div>
  );
}
