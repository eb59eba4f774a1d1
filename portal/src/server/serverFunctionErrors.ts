/**
 * What a server function threw, as its caller may see it (SolidStart's `serverFunctions.onError`).
 * Responses pass unchanged: redirects, and the 405/429 refusals written for people. Anything else
 * (a database, Stripe or identity-server error, whose message can name hosts, ids or internals)
 * is logged in full here and replaced by one plain sentence, which the page's notice shows.
 */
import type { ServerFunctionErrorHandler } from "@solidjs/start/server";
import { getRequestEvent } from "solid-js/web";
import { logServerError } from "./errorLog.ts";

export const SOMETHING_WENT_WRONG =
  "Something went wrong on our side, and nothing was changed. Please try again in a moment.";

const onServerFunctionError: ServerFunctionErrorHandler = (thrown) => {
  if (thrown instanceof Response) return thrown;
  const meta = getRequestEvent()?.locals.serverFunctionMeta as { id?: string } | undefined;
  logServerError("server function failed", thrown, { serverFunction: meta?.id });
  return SOMETHING_WENT_WRONG;
};

export default onServerFunctionError;
