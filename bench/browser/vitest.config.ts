import { defineConfig } from "vitest/config"
import { chromiumLaunch, sourceAliases } from "../../vitest.shared.js"

// The browser benchmark: Debian's Chromium, driven by Playwright with executablePath.
export default defineConfig({
  resolve: { alias: sourceAliases("core", "browser") },
  optimizeDeps: { include: ["effect"] },
  test: {
    include: ["bulk.bench.test.ts"],
    globalSetup: ["globalSetup.ts"],
    testTimeout: 600_000,
    browser: {
      enabled: true,
      provider: "playwright",
      headless: true,
      screenshotFailures: false,
      instances: [{ browser: "chromium", launch: chromiumLaunch }]
    }
  }
})
