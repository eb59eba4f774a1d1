/**
 * `node --import control/dotenvPreload.ts …`: the optional `.env` read into the
 * environment before a CLI's own code runs (bin/mindroom-ops, bin/mindroom-webhooks).
 */
import { loadDotenv } from "./dotenv.ts";

loadDotenv();
