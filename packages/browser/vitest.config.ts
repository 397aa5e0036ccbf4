import { playwright } from "@vitest/browser-playwright"
import { defineProject } from "vitest/config"
import { chromiumLaunch, effectModules, sourceAliases } from "../../vitest.shared.js"

// Real Chromium: Debian's package, driven by Playwright with executablePath (never a download).
export default defineProject({
  resolve: { alias: sourceAliases("core", "browser") },
  optimizeDeps: {
    // What the page loads: core's and this package's sources and tests, and core's contract suite.
    include: [
      ...effectModules(import.meta.url, "../core/src", "../core/test/contract", "../core/test/utils.ts", "src", "test"),
      "@effect/vitest"
    ]
  },
  test: {
    name: "browser",
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 30_000,
    browser: {
      enabled: true,
      provider: playwright({ launchOptions: chromiumLaunch }),
      headless: true,
      screenshotFailures: false,
      instances: [{ browser: "chromium" }]
    }
  }
})
