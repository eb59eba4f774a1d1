/**
 * The deployment's health check (app.json): asks the part this app serves
 * whether it is ready. The webhook service answers `/readyz` (its database
 * pool and queue); the portal its sign-in page. Exit 0 ready, 1 not.
 */
const part = process.env.MINDROOM_SERVE_ONLY?.trim() || "webhooks";
const port =
  part === "webhooks"
    ? process.env.MINDROOM_WEBHOOKS_PORT?.trim() || process.env.PORT?.trim() || "8790"
    : process.env.PORT?.trim() || "3000";
const path = part === "webhooks" ? "/readyz" : "/login";
try {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  process.stdout.write(`${part} ${path}: ${response.status}\n`);
  process.exit(response.ok ? 0 : 1);
} catch (error) {
  process.stdout.write(`${part} ${path}: ${(error as Error).message}\n`);
  process.exit(1);
}
