import { solidStart } from "@solidjs/start/config";
import { nitro } from "nitro/vite";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [
    solidStart({
      ssr: true,
      middleware: "./src/middleware.ts",
      serverFunctions: { onError: "./src/server/serverFunctionErrors.ts" },
    }),
    nitro(),
  ],
});
