import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"

// The README's quick start must be real code: every line of its first TypeScript block appears,
// in order, in examples/echo.ts (which the type-check and the tests run).
describe("README quick start", () => {
  it("is a verbatim excerpt of examples/echo.ts", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8")
    const source = readFileSync(new URL("../echo.ts", import.meta.url), "utf8").split("\n")
    const block = readme.slice(readme.indexOf("```ts\n") + 6)
    const lines = block.slice(0, block.indexOf("```")).split("\n").filter((line) => line.trim() !== "")
    expect(lines.length).toBeGreaterThan(20)
    let at = 0
    for (const line of lines) {
      const found = source.indexOf(line, at)
      expect(found, `README line not in examples/echo.ts (in order): ${line}`).toBeGreaterThanOrEqual(0)
      at = found + 1
    }
  })
})
