/**
 * The packages as a user gets them from npm: `pnpm pack` each one, install them into a fresh
 * project outside the workspace the way the README says — `npm i effect @bytechannel/core
 * @bytechannel/node @bytechannel/browser`, no version pinned (the tarballs stand for the package
 * names), so npm picks `effect`'s latest and must find it within every peer range — then run the
 * README quick start, type-check it under `nodenext` and `bundler`, and bundle a browser client
 * with esbuild.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { gunzipSync, gzipSync } from "node:zlib"

const root = fileURLToPath(new URL("../../", import.meta.url))
const PNPM = "pnpm@10.34.9"
const PACKAGES = ["core", "node", "browser"] as const
const require = createRequire(import.meta.url)
const tsc = require.resolve("typescript/bin/tsc")
// esbuild comes with vite (a dependency of the examples); the part of its API used here.
interface BuildResult {
  readonly outputFiles: ReadonlyArray<{ readonly path: string; readonly text: string }>
  readonly metafile: { readonly outputs: Record<string, { readonly inputs: Record<string, { readonly bytesInOutput: number }> }> }
}
const esbuild: { readonly build: (options: Record<string, unknown>) => Promise<BuildResult> } = createRequire(
  require.resolve("vite")
)("esbuild")

// npm in the child must not see this run's pnpm/npm script settings (only where to fetch from).
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) =>
    !/^npm_/i.test(key) || /^npm_config_(registry|cache|cafile|strict_ssl|(https?_)?proxy|noproxy)$/i.test(key)
  )
)

const run = async (command: string, args: ReadonlyArray<string>, cwd: string) => {
  try {
    const { stdout } = await promisify(execFile)(command, args, { cwd, env: childEnv, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 })
    return stdout
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string }
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${e.stdout ?? ""}${e.stderr ?? ""}${e.message}`)
  }
}

/** Reads one file out of a .tgz (a tar of 512-byte blocks, gzipped). */
const readTarball = (tarball: string) => {
  const tar = gunzipSync(readFileSync(tarball))
  const files = new Map<string, string>()
  for (let offset = 0; offset + 512 <= tar.length;) {
    const name = tar.subarray(offset, offset + 100).toString("utf8").replace(/\0.*$/s, "")
    if (name === "") break
    const size = parseInt(tar.subarray(offset + 124, offset + 136).toString("utf8").replace(/\0.*$/s, "").trim() || "0", 8)
    files.set(name, tar.subarray(offset + 512, offset + 512 + size).toString("utf8"))
    offset += 512 + Math.ceil(size / 512) * 512
  }
  return files
}

const client = (style: "root" | "deep") => `${
  style === "root"
    ? `import { ByteChannel, Codec } from "@bytechannel/core"
import { BrowserConnector } from "@bytechannel/browser"`
    : `import * as ByteChannel from "@bytechannel/core/ByteChannel"
import * as Codec from "@bytechannel/core/Codec"
import * as BrowserConnector from "@bytechannel/browser/BrowserConnector"`
}
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

export const program = Effect.gen(function*() {
  const channel = yield* ByteChannel.connect("/chat")
  const lines = ByteChannel.framed(channel, Codec.lines())
  yield* lines.send("hello")
  yield* lines.messages.pipe(Stream.take(1), Stream.runForEach((line) => Effect.log(line)))
}).pipe(Effect.scoped, Effect.provide(BrowserConnector.layer))

Effect.runFork(program)
`

const tsconfig = (module: "NodeNext" | "ESNext", moduleResolution: "NodeNext" | "Bundler", files: ReadonlyArray<string>, emit: boolean) =>
  JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      module,
      moduleResolution,
      lib: ["ES2022", "DOM"],
      types: ["node"],
      strict: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck: true,
      ...(emit ? { outDir: "out" } : { noEmit: true })
    },
    files
  })

describe("packaging: the tarballs installed with npm outside the workspace", () => {
  let dir = ""
  let project = ""
  const tarballs: Record<string, string> = {}

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "bytechannel-packaging-"))
    project = join(dir, "app")
    const packs = join(dir, "packs")
    mkdirSync(project)
    // Fresh dist (a no-op after the test command's tsc -b), then one tarball per package.
    await run(process.execPath, [tsc, "-b", ...PACKAGES.map((p) => `packages/${p}/tsconfig.src.json`)], root)
    await run("npx", ["-y", PNPM, "-r", "--filter", "./packages/*", "pack", "--pack-destination", packs], root)
    for (const file of readdirSync(packs)) tarballs[file.replace(/^bytechannel-(\w+)-.*$/, "$1")] = join(packs, file)
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }))
    // As the README's install line: effect without a version, next to the packages. `--strict-peer-deps`
    // turns an effect outside a peer range (what "ERESOLVE overriding peer dependency" warned of) into a failure.
    await run("npm", [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--ignore-scripts",
      "--strict-peer-deps",
      "--loglevel=error",
      "effect",
      ...PACKAGES.map((p) => tarballs[p]!),
      "@types/node@^22.19.0"
    ], project)
    cpSync(join(root, "examples/echo.ts"), join(project, "echo.ts"))
    writeFileSync(join(project, "client.ts"), client("deep"))
    writeFileSync(join(project, "client-root.ts"), client("root"))
  }, 240_000)

  afterAll(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true })
  })

  it("each tarball ships README, LICENSE, engines and repository; core is a peer of node and browser", () => {
    // Every package in packages/ is packed and held to the same rules, not only those installed here.
    expect(Object.keys(tarballs)).toEqual(expect.arrayContaining([...PACKAGES]))
    for (const name of Object.keys(tarballs)) {
      const files = readTarball(tarballs[name]!)
      expect(files.get("package/README.md"), name).toContain(`@bytechannel/${name}`)
      expect(files.get("package/LICENSE"), name).toContain("MIT License")
      const manifest = JSON.parse(files.get("package/package.json")!)
      // Node's floor everywhere; a runtime's own package adds that runtime's (bun, deno).
      expect(manifest.engines.node, name).toBe(">=22.19")
      expect(Object.keys(manifest.engines).filter((key) => key !== "node" && key !== name), name).toEqual([])
      expect(manifest.peerDependencies.effect, name).toBe("^4.1.5")
      expect(manifest.repository, name).toMatchObject({ type: "git", directory: `packages/${name}` })
      expect(JSON.stringify(manifest), name).not.toContain("workspace:")
      expect(manifest.dependencies?.["@bytechannel/core"], name).toBeUndefined()
      if (name !== "core") expect(manifest.peerDependencies["@bytechannel/core"], name).toBe(`^${manifest.version}`)
    }
    const core = JSON.parse(readTarball(tarballs.core!).get("package/package.json")!)
    expect(core.peerDependenciesMeta).toBeUndefined()
  })

  it("npm installed effect 4 (its latest) and no @effect/platform; the README quick start compiles under nodenext and runs", async () => {
    expect(existsSync(join(project, "node_modules/@effect/platform"))).toBe(false)
    const effect = JSON.parse(readFileSync(join(project, "node_modules/effect/package.json"), "utf8"))
    expect(effect.version).toMatch(/^4\./)
    writeFileSync(join(project, "tsconfig.json"), tsconfig("NodeNext", "NodeNext", ["echo.ts"], true))
    await run(process.execPath, [tsc, "-p", "tsconfig.json"], project)
    const output = await run(process.execPath, ["out/echo.js"], project)
    expect(output).toMatch(/^memory {3}: echoed "hello, byte channel", closed with 1000 "done" \(clean: true\)$/m)
    expect(output).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/echo: echoed "hello, byte channel", closed with 1000 "done" \(clean: true\)$/m)
  }, 120_000)

  it("the quick start and a browser client type-check under bundler resolution", async () => {
    writeFileSync(join(project, "tsconfig.bundler.json"), tsconfig("ESNext", "Bundler", ["echo.ts", "client.ts", "client-root.ts"], false))
    await run(process.execPath, [tsc, "-p", "tsconfig.bundler.json"], project)
  }, 120_000)

  it("import and require() load every package; internals are unreachable; EffectSocket loads on its own subpath", async () => {
    const probe = `
      const out = []
      for (const name of ["@bytechannel/core", "@bytechannel/node", "@bytechannel/browser"]) out.push(Object.keys(await import(name)).join(","))
      const require = (await import("node:module")).createRequire(import.meta.url)
      out.push(Object.keys(require("@bytechannel/node")).join(","))
      for (const path of ["@bytechannel/core/codec/lines", "@bytechannel/core/codec/payload", "@bytechannel/core/internal/messageSocket.js", "@bytechannel/node/internal/wsTransport.js"]) {
        out.push(await import(path).then(() => "reachable " + path, (e) => e.code))
      }
      out.push(await import("@bytechannel/core/EffectSocket").then((m) => "loaded " + Object.keys(m).sort().join(","), (e) => e.code + " " + e.message.split("\\n")[0]))
      console.log(out.join("\\n"))
    `
    writeFileSync(join(project, "probe.mjs"), probe)
    const lines = (await run(process.execPath, ["probe.mjs"], project)).trim().split("\n")
    expect(lines.slice(0, 4)).toEqual([
      "ByteChannel,CloseCode,Codec,CodecError,Connector,Framed,Hub,Keepalive,MemorySocket,MessageSocket,Reconnect,Server,SocketError,SocketMetrics,TestConnector,Transport,WebSocketConnector,WebSocketTransport",
      "NodeByteChannel,NodeConnector,NodeServer,NodeSocketServer",
      "BrowserConnector",
      "NodeByteChannel,NodeConnector,NodeServer,NodeSocketServer"
    ])
    expect(lines.slice(4, 8)).toEqual(Array(4).fill("ERR_PACKAGE_PATH_NOT_EXPORTED"))
    expect(lines[8]).toMatch(/^loaded .*fromSocket.*toSocket.*upgrade/)
  }, 60_000)

  it("the public declarations reach only effect, @bytechannel/*, node: built-ins", () => {
    for (const name of PACKAGES) {
      const files = readTarball(tarballs[name]!)
      // Every declaration a user's compiler reads: the public modules and what they import.
      const pending = [...files.keys()].filter((file) => /^package\/dist\/[^/]+\.d\.ts$/.test(file))
      const seen = new Set<string>()
      while (pending.length > 0) {
        const file = pending.pop()!
        if (seen.has(file)) continue
        seen.add(file)
        for (const [, specifier] of files.get(file)!.matchAll(/(?:from|import\()\s*"([^"]+)"/g)) {
          if (specifier!.startsWith(".")) {
            pending.push(join(file, "..", specifier!).replace(/\.js$/, ".d.ts"))
            continue
          }
          const allowed = /^(effect(\/|$)|@bytechannel\/(core|node|browser)(\/|$)|node:)/.test(specifier!)
          expect(allowed, `${file} imports ${specifier}`).toBe(true)
          if (name === "browser") expect(specifier, file).not.toMatch(/^node:/)
        }
      }
      expect(seen.size, name).toBeGreaterThan(1)
      for (const file of seen) expect(files.has(file), `${file} is in the ${name} tarball`).toBe(true)
    }
  })

  it("a browser client bundles with esbuild, without a node: import; module-path imports leave unused codecs out", async () => {
    const bundle = async (entry: string) => {
      const result = await esbuild.build({
        entryPoints: [join(project, entry)],
        absWorkingDir: project,
        bundle: true,
        minify: true,
        format: "esm",
        platform: "browser",
        write: false,
        metafile: true,
        outfile: join(project, "out.js"),
        logLevel: "silent"
      })
      const code = result.outputFiles.find((file) => file.path.endsWith(".js"))!.text
      const inputs = Object.entries(Object.values(result.metafile.outputs)[0]!.inputs)
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([path]) => path)
      return { code, inputs, gzip: gzipSync(code).length }
    }
    const deep = await bundle("client.ts")
    const rootImports = await bundle("client-root.ts")
    for (const { code, inputs } of [deep, rootImports]) {
      expect(code).not.toMatch(/(from|import\(|require\()\s*["']node:/)
      expect(inputs.filter((path) => path.includes("node_modules/ws/") || path.startsWith("node:"))).toEqual([])
    }
    // The import style the README teaches for esbuild: only the codec used is bundled.
    const codecs = (inputs: ReadonlyArray<string>) =>
      inputs.filter((path) => path.includes("@bytechannel/core/dist/internal/codec/")).map((path) => path.replace(/.*\/codec\//, "")).sort()
    const unused = ["json.js", "lengthDelimited.js", "varintDelimited.js"]
    expect(codecs(deep.inputs)).toContain("lines.js")
    expect(codecs(deep.inputs).filter((file) => unused.includes(file))).toEqual([])
    expect(codecs(rootImports.inputs)).toEqual(expect.arrayContaining(unused))
    expect(deep.gzip).toBeLessThan(rootImports.gzip)
    console.log(`esbuild browser client, gzipped: module-path imports ${deep.gzip} B, root imports ${rootImports.gzip} B`)
  }, 60_000)
})
