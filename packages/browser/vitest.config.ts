import { fileURLToPath } from "node:url"
import { defineProject } from "vitest/config"

const src = (pkg: string, path: string) => fileURLToPath(new URL(`../${pkg}/src/${path}`, import.meta.url))

// Real Chromium: Debian's package, driven by Playwright with executablePath (never a download).
export default defineProject({
  resolve: {
    alias: [
      { find: /^@bytechannel\/(core|browser)$/, replacement: src("$1", "index.ts") },
      { find: /^@bytechannel\/(core|browser)\/(.*)$/, replacement: src("$1", "$2.ts") }
    ]
  },
  optimizeDeps: {
    include: ["effect", "@effect/vitest"]
  },
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
      instances: [
        {
          browser: "chromium",
          launch: {
            executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
            args: [
              "--no-sandbox",
              "--disable-gpu",
              "--disable-background-networking",
              "--disable-component-update",
              "--disable-sync",
              "--disable-quic",
              "--no-first-run"
            ]
          }
        }
      ]
    }
  }
})
