import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"

const src = (pkg: string, path: string) => fileURLToPath(new URL(`../packages/${pkg}/src/${path}`, import.meta.url))

export default defineProject({
  resolve: {
    alias: [
      { find: /^@bytechannel\/(core|node)$/, replacement: src("$1", "index.ts") },
      { find: /^@bytechannel\/(core|node)\/(.*)$/, replacement: src("$1", "$2.ts") }
    ]
  },
  test: {
    name: "examples",
    include: ["test/**/*.test.ts"],
    environment: "node"
  }
})
