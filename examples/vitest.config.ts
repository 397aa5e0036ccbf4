import { defineProject } from "vitest/config"
import { sourceAliases } from "../vitest.shared.js"

export default defineProject({
  resolve: { alias: sourceAliases("core", "node", "browser", "redis") },
  test: {
    name: "examples",
    include: ["test/**/*.test.ts"],
    environment: "node"
  }
})
