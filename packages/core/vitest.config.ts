import { defineProject } from "vitest/config"
import { sourceAliases } from "../../vitest.shared.js"

export default defineProject({
  resolve: { alias: sourceAliases("core") },
  test: {
    name: "core",
    include: ["test/**/*.test.ts"],
    environment: "node"
  }
})
