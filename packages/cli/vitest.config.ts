import { defineProject } from "vitest/config"
import { sourceAliases } from "../../vitest.shared.js"

export default defineProject({
  resolve: { alias: sourceAliases("core", "node") },
  test: {
    name: "cli",
    include: ["test/**/*.test.ts"],
    environment: "node",
    // Bundles the executable from src once per run (see test/globalSetup.ts).
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
