import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const src = (pkg: string, path: string) => fileURLToPath(new URL(`../../packages/${pkg}/src/${path}`, import.meta.url))

// The browser benchmark: Debian's Chromium, driven by Playwright with executablePath.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@bytechannel\/(core|browser)$/, replacement: src("$1", "index.ts") },
      { find: /^@bytechannel\/(core|browser)\/(.*)$/, replacement: src("$1", "$2.ts") }
    ]
  },
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
      instances: [{
        browser: "chromium",
        launch: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
        }
      }]
    }
  }
})
