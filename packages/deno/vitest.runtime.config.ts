import { defineConfig } from "vitest/config"
import { sourceAliases } from "../../vitest.shared.js"

// Runs inside Deno (scripts/test-runtime.sh deno): Vitest and its workers on Deno 2.9, peers in a
// Node child (core/test/contract/remote). Not `vitest.config.ts`: the root Node run must not pick it up.
export default defineConfig({
  resolve: { alias: sourceAliases("core", "deno") },
  test: {
    name: "deno",
    include: ["test/**/*.test.ts"],
    environment: "node",
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
