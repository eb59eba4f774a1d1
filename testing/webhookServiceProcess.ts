/**
 * The webhook service with its worker, as a child process for end-to-end
 * tests that kill it: configured from the environment like `mindroom-webhooks
 * serve`, with short queue timings (heartbeat, supervision, retry backoff) so
 * a job orphaned by SIGKILL is retried within seconds, not minutes. Prints one
 * JSON line `{"url": …}` when ready; SIGTERM stops it gracefully.
 */
import { silentLogger } from "../logging/logger.ts";
import { startWebhookService } from "../webhooks/main.ts";
import { loadWebhookSettings } from "../webhooks/settings.ts";

const service = await startWebhookService(loadWebhookSettings(), {
  logger: process.env.MINDROOM_TEST_SERVICE_LOGS === "1" ? undefined : silentLogger,
  queue: {
    heartbeatSeconds: 10,
    superviseIntervalSeconds: 2,
    retryDelaySeconds: 1,
    retryDelayMaxSeconds: 4,
    pollingIntervalSeconds: 0.5,
  },
  shutdownGraceMs: 5_000,
});
process.stdout.write(`${JSON.stringify({ url: service.url })}\n`);
process.once("SIGTERM", () => {
  service.close().then(() => process.exit(0));
});
