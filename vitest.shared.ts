// What every Vitest project here shares: resolving @bytechannel/* to sources (no build needed to
// test), and, for browser projects, how Debian's Chromium is launched (never a downloaded browser)
// and which effect modules the page loads.
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL(".", import.meta.url))

/** Aliases `@bytechannel/<pkg>` and `@bytechannel/<pkg>/<Module>` to `packages/<pkg>/src`. */
export const sourceAliases = (...packages: ReadonlyArray<string>) => {
  const names = packages.join("|")
  return [
    { find: new RegExp(`^@bytechannel/(${names})$`), replacement: `${root}packages/$1/src/index.ts` },
    { find: new RegExp(`^@bytechannel/(${names})/(.*)$`), replacement: `${root}packages/$1/src/$2.ts` }
  ]
}

/**
 * Playwright launch options for Debian's chromium package (flags: no sandbox as root, no background
 * traffic), as a browser project passes them: `provider: playwright({ launchOptions: chromiumLaunch })`
 * from `@vitest/browser-playwright` (Vitest 4+; a browser instance no longer takes `launch`).
 */
export const chromiumLaunch = {
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

/**
 * Every `effect/*` module that the `.ts` files and folders in `paths` import (resolved against
 * `base`, the calling config's `import.meta.url`), for a browser project's `optimizeDeps.include`:
 * pre-bundled before the first test. A module Vite discovers mid-run makes it reload the page and
 * fail the run ("Vite unexpectedly reloaded a test"), and so does a stale dependency cache.
 */
export const effectModules = (base: string, ...paths: ReadonlyArray<string>): Array<string> => {
  const found = new Set<string>(["effect"])
  for (const path of paths) {
    const start = fileURLToPath(new URL(path, base))
    const files = start.endsWith(".ts")
      ? [start]
      : readdirSync(start, { recursive: true, encoding: "utf8" }).map((file) => join(start, file))
    for (const file of files.filter((name) => name.endsWith(".ts"))) {
      for (const match of readFileSync(file, "utf8").matchAll(/from "(effect\/[\w/]+)"/g)) found.add(match[1]!)
    }
  }
  return [...found].sort()
}
