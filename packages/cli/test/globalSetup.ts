/**
 * Builds the `bytechannel` executable from `src` once per run: esbuild bundles `src/bin.ts`
 * with `@bytechannel/*` taken from their sources (as Vitest's aliases do) into a fresh temporary
 * directory. The tests run that file, so they always run the code under test, never a stale
 * `dist`, and never race another developer's `tsc -b` over shared build output. A bundle also
 * starts in ~0.2 s of CPU and ~55 MB, where tsx on the sources takes ~3 s and ~155 MB a process
 * (measured on this 2-core machine), which is what keeps a dozen processes within the time.
 */
import { build, type Plugin } from "esbuild"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { TestProject } from "vitest/node"

const packages = fileURLToPath(new URL("../../", import.meta.url))

declare module "vitest" {
  export interface ProvidedContext {
    /** The bundled `bytechannel` executable (run it with `node`). */
    readonly bytechannelBin: string
  }
}

/**
 * `@bytechannel/<pkg>` to `packages/<pkg>/src/index.ts` and `@bytechannel/<pkg>/<Module>` to
 * `packages/<pkg>/src/<Module>.ts`, as vitest.shared.ts's `sourceAliases` do (esbuild's `alias`
 * maps a prefix, so it cannot tell the two apart).
 */
const WORKSPACE_IMPORT = /^@bytechannel\/(core|node)(?:\/([^/]+))?$/

const sources: Plugin = {
  name: "bytechannel-sources",
  setup: (build) => {
    build.onResolve({ filter: WORKSPACE_IMPORT }, ({ path }) => {
      const [, pkg, module] = WORKSPACE_IMPORT.exec(path)!
      return { path: join(packages, pkg!, "src", `${module ?? "index"}.ts`) }
    })
  }
}

/** Bundles `src/bin.ts` into `dir/bytechannel.mjs`. */
export const bundle = async (dir: string): Promise<string> => {
  const outfile = join(dir, "bytechannel.mjs")
  await build({
    entryPoints: [join(packages, "cli/src/bin.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    outfile,
    logLevel: "warning",
    plugins: [sources],
    // ws is CommonJS and requires Node built-ins: give the ES module bundle a `require`.
    banner: { js: "import { createRequire as __bytechannelRequire } from \"node:module\"; const require = __bytechannelRequire(import.meta.url);" }
  })
  return outfile
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "bytechannel-cli-"))
  project.provide("bytechannelBin", await bundle(dir))
  return () => rmSync(dir, { recursive: true, force: true })
}
