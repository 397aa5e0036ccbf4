// What every Vitest project here shares: resolving @bytechannel/* to sources (no build needed to
// test), and how Debian's Chromium is launched (never a downloaded browser).
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

/** Playwright launch options for Debian's chromium package (flags: no sandbox as root, no background traffic). */
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
