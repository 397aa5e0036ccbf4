import { defineConfig } from "vitest/config"
import { sourceAliases } from "../../vitest.shared.js"

export default defineConfig({
  resolve: { alias: sourceAliases("core", "bun") },
  test: {
    name: "bun",
    include: ["test/**/*.test.ts"],
    environment: "node",
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
