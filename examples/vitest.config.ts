import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"

const core = (path: string) => fileURLToPath(new URL(`../packages/core/src/${path}`, import.meta.url))

export default defineProject({
  resolve: {
    alias: [
      { find: /^@bytechannel\/core$/, replacement: core("index.ts") },
      { find: /^@bytechannel\/core\/(.*)$/, replacement: core("$1.ts") }
    ]
  },
  test: {
    name: "examples",
    include: ["test/**/*.test.ts"],
    environment: "node"
  }
})
