import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"

export default defineProject({
  resolve: {
    alias: [
      { find: /^@bytechannel\/core$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
      { find: /^@bytechannel\/core\/(.*)$/, replacement: fileURLToPath(new URL("./src/$1.ts", import.meta.url)) }
    ]
  },
  test: {
    name: "core",
    include: ["test/**/*.test.ts"],
    environment: "node"
  }
})
