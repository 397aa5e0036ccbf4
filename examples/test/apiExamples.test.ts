/**
 * The `@example` blocks of the public modules (packages/*\/src/*.ts) are real code: each one is
 * type-checked as its own module against the sources, the way a user's project would see the
 * packages (strict, `exactOptionalPropertyTypes`, bundler resolution).
 */
import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const root = fileURLToPath(new URL("../../", import.meta.url))
const PACKAGES = ["core", "node", "browser", "redis", "bun", "deno"] as const

/** The entry points that must carry an example (`Module.export`). */
const REQUIRED = [
  "core/ByteChannel.connect",
  "core/ByteChannel.fromSocket",
  "core/ByteChannel.framed",
  "core/ByteChannel.handle",
  "core/ByteChannel.toReadableStream",
  "core/Codec.lines",
  "core/Codec.lengthDelimited",
  "core/Codec.varintDelimited",
  "core/Codec.json",
  "core/Codec.ndjson",
  "core/Codec.decode",
  "core/Codec.encode",
  "core/Connector.connect",
  "core/MemorySocket.pair",
  "core/TestConnector.layer",
  "core/Reconnect.sessions",
  "core/Reconnect.framed",
  "core/EffectSocket.fromSocket",
  "core/EffectSocket.toSocket",
  "core/EffectSocket.upgrade",
  "node/NodeSocketServer.make",
  "node/NodeSocketServer.layer",
  "core/SocketError.SocketError",
  "node/NodeConnector.layerWith",
  "node/NodeServer.serve",
  "node/NodeServer.layer",
  "node/NodeServer.layerServer",
  "node/NodeServer.attach",
  "node/NodeServer.serveTcp",
  "node/NodeByteChannel.toDuplex",
  "browser/BrowserConnector.layerWith",
  "core/Server.serve",
  "core/WebSocketConnector.layer",
  "core/WebSocketConnector.layerWith",
  "core/WebSocketTransport.fromWebSocket",
  "bun/BunServer.serve",
  "bun/BunServer.layer",
  "bun/BunServer.layerServer",
  "deno/DenoServer.serve",
  "deno/DenoServer.layer",
  "deno/DenoServer.layerServer",
  "core/Hub.layer",
  "redis/RedisHub.layer"
]

interface Example {
  readonly name: string
  readonly code: string
}

/** Every ```ts fence after an `@example` tag in a doc comment, named by the export it documents. */
const extract = (pkg: string, module: string, source: string): Array<Example> => {
  const examples: Array<Example> = []
  for (const match of source.matchAll(/\/\*\*([\s\S]*?)\*\/\s*export\s+(?:declare\s+)?(?:const|function|class|interface|type)\s+(\w+)/g)) {
    const body = match[1]!.split("\n").map((line) => line.replace(/^\s*\* ?/, "")).join("\n")
    const at = body.indexOf("@example")
    if (at === -1) continue
    for (const fence of body.slice(at).matchAll(/```ts\n([\s\S]*?)```/g)) {
      examples.push({ name: `${pkg}/${module}.${match[2]}`, code: fence[1]! })
    }
  }
  return examples
}

const examples = PACKAGES.flatMap((pkg) => {
  const dir = join(root, "packages", pkg, "src")
  return readdirSync(dir)
    .filter((file) => file.endsWith(".ts") && file !== "index.ts")
    .flatMap((file) => extract(pkg, file.replace(/\.ts$/, ""), readFileSync(join(dir, file), "utf8")))
})

describe("API examples", () => {
  it("every entry point has one", () => {
    const documented = new Set(examples.map((example) => example.name))
    expect(REQUIRED.filter((name) => !documented.has(name))).toEqual([])
  })

  it("every example type-checks against the sources", () => {
    // Virtual files next to packages/core, so packages' dependencies (effect, @effect/platform) resolve.
    const dir = join(root, "packages", "core", "__examples__")
    const files = new Map(examples.map((example, i) => [join(dir, `${example.name.replace(/\W/g, "_")}_${i}.ts`), example]))
    const paths: Record<string, Array<string>> = {}
    for (const pkg of PACKAGES) {
      paths[`@bytechannel/${pkg}`] = [join(root, "packages", pkg, "src", "index.ts")]
      paths[`@bytechannel/${pkg}/*`] = [join(root, "packages", pkg, "src", "*.ts")]
    }
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
      types: ["node"],
      typeRoots: [join(root, "node_modules", "@types")],
      strict: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck: true,
      noEmit: true,
      paths
    }
    const host = ts.createCompilerHost(options)
    const { fileExists, readFile, getSourceFile } = host
    host.fileExists = (file) => files.has(file) || fileExists.call(host, file)
    host.readFile = (file) => files.get(file)?.code ?? readFile.call(host, file)
    host.getSourceFile = (file, language, ...rest) => {
      const example = files.get(file)
      return example ? ts.createSourceFile(file, example.code, language) : getSourceFile.call(host, file, language, ...rest)
    }
    const program = ts.createProgram([...files.keys()], options, host)
    const problems = [...files.keys()].flatMap((file) =>
      ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((diagnostic) => {
        const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0)
        return `${files.get(file)!.name} (line ${line + 1}): ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`
      })
    )
    expect(problems).toEqual([])
    expect(files.size).toBeGreaterThanOrEqual(REQUIRED.length)
  }, 120_000)
})
