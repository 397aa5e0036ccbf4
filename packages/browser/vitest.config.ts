import { defineProject } from "vitest/config"
import { chromiumLaunch, sourceAliases } from "../../vitest.shared.js"

// Real Chromium: Debian's package, driven by Playwright with executablePath (never a download).
export default defineProject({
  resolve: { alias: sourceAliases("core", "browser") },
  optimizeDeps: { include: ["effect", "@effect/vitest"] },
  test: {
    name: "browser",
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 30_000,
    browser: {
      enabled: true,
      provider: "playwright",
      headless: true,
      screenshotFailures: false,
      instances: [{ browser: "chromium", launch: chromiumLaunch }]
    }
  }
})
