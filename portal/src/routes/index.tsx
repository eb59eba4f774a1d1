import { createAsync, query } from "@solidjs/router";
import { tier } from "../../../components/tiers.ts";

const hello = query(async () => {
  "use server";
  return { node: process.version, starter: tier("starter").label };
}, "hello");

export default function Home() {
  const data = createAsync(() => hello());
  return (
    <main>
      Hello {data()?.node} {data()?.starter}
    </main>
  );
}
