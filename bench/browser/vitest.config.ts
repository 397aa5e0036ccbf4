import { playwright } from "@vitest/browser-playwright"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"
import { chromiumLaunch, sourceAliases } from "../../vitest.shared.js"

/**
 * Every `effect/*` module the page can load (what the files and folders in `paths` import),
 * pre-bundled before the run: a module Vite discovers mid-run makes it reload the page and fail
 * the run ("Vite unexpectedly reloaded a test"). As packages/browser/vitest.config.ts does.
 */
const effectModules = (...paths: ReadonlyArray<string>) => {
  const found = new Set<string>(["effect"])
  for (const path of paths) {
    const root = fileURLToPath(new URL(path, import.meta.url))
    const files = root.endsWith(".ts") ? [root] : readdirSync(root, { recursive: true, encoding: "utf8" }).map((file) => join(root, file))
    for (const file of files.filter((file) => file.endsWith(".ts"))) {
      for (const match of readFileSync(file, "utf8").matchAll(/from "(effect\/[\w/]+)"/g)) found.add(match[1]!)
    }
  }
  return [...found].sort()
}

// The browser benchmark: Debian's Chromium, driven by Playwright with executablePath (never a download).
export default defineConfig({
  resolve: { alias: sourceAliases("core", "browser") },
  optimizeDeps: { include: effectModules("../../packages/core/src", "../../packages/browser/src", "bulk.bench.test.ts") },
  test: {
    include: ["bulk.bench.test.ts"],
    globalSetup: ["globalSetup.ts"],
    testTimeout: 600_000,
    browser: {
      enabled: true,
      provider: playwright({ launchOptions: chromiumLaunch }),
      headless: true,
      screenshotFailures: false,
      instances: [{ browser: "chromium" }]
    }
  }
})
