import { defineConfig } from "vitest/config"

// Every package's tests, each as its own Vitest project (core, node, browser, ...).
export default defineConfig({
  test: {
    projects: ["packages/*/vitest.config.ts", "examples/vitest.config.ts"]
  }
})
