import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"

// The README's TypeScript must be real code. Its first block (the quick start) is an excerpt of
// examples/echo.ts; every block after a `<!-- excerpt: examples/... -->` line is an excerpt of that
// file (which the type-check compiles and a test runs): each of its lines appears there, in order;
// a line `// ...` stands for lines left out.
const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8")
const ELIDED = "// ..."

const expectExcerpt = (block: string, path: string) => {
  const source = readFileSync(new URL(`../../${path}`, import.meta.url), "utf8").split("\n")
  const lines = block.split("\n").filter((line) => line.trim() !== "" && line.trim() !== ELIDED)
  let at = 0
  for (const line of lines) {
    const found = source.indexOf(line, at)
    expect(found, `README line not in ${path} (in order): ${line}`).toBeGreaterThanOrEqual(0)
    at = found + 1
  }
  return lines.length
}

const excerpts = [...readme.matchAll(/<!-- excerpt: (\S+) -->\n```ts\n([\s\S]*?)```/g)].map((match) => ({ path: match[1]!, block: match[2]! }))

describe("README", () => {
  it("the quick start is a verbatim excerpt of examples/echo.ts", () => {
    const block = readme.slice(readme.indexOf("```ts\n") + 6)
    expect(expectExcerpt(block.slice(0, block.indexOf("```")), "examples/echo.ts")).toBeGreaterThan(20)
  })

  it("each marked block is an excerpt of its file: Node, Bun, Deno and a browser each have one", () => {
    for (const { block, path } of excerpts) expect(expectExcerpt(block, path), path).toBeGreaterThan(2)
    expect(excerpts.map((e) => e.path)).toEqual(expect.arrayContaining([
      "examples/runtimes/echo-bun.ts",
      "examples/runtimes/echo-deno.ts",
      "examples/chat/page/main.ts",
      "examples/chat/server.ts"
    ]))
  })
})
