/**
 * A table of records with a header row, scrollable on a narrow screen, or (with `empty`) a line
 * saying why there is nothing to list instead of an empty table.
 */
import { For, type JSX, Show } from "solid-js";

export default function DataTable<Row>(props: {
  columns: readonly string[];
  rows: readonly Row[];
  children: (row: Row) => JSX.Element;
  /** Shown instead of the table when there are no rows; without it the table stands empty. */
  empty?: JSX.Element;
  caption?: string;
  testId?: string;
}) {
  return (
    <Show
      when={props.rows.length > 0 || props.empty === undefined}
      fallback={<p class="muted">{props.empty}</p>}
    >
      <div class="table-wrap">
        <table data-testid={props.testId}>
          <Show when={props.caption}>
            <caption class="sr-only">{props.caption}</caption>
          </Show>
          <thead>
            <tr>
              <For each={props.columns}>{(column) => <th scope="col">{column}</th>}</For>
            </tr>
          </thead>
          <tbody>
            <For each={props.rows}>{(row) => props.children(row)}</For>
          </tbody>
        </table>
      </div>
    </Show>
  );
}
