/**
 * End to end, as a person would use it: the chat server with its Vite-built page, two pages in
 * Debian's Chromium (Playwright, executablePath) and one terminal client. Every message shows
 * on all three, and the pages show their server and how many are online; one page's connection
 * is cut server-side and it reconnects and keeps chatting.
 * A screenshot is saved to reports/chat.png.
 */
import { Hub } from "@bytechannel/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import { mkdirSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { chromium, type Browser, type Page } from "playwright"
import { build } from "vite"
import { layerWithPage } from "../chat/page.js"
import { serveChat } from "../chat/server.js"

const examples = fileURLToPath(new URL("..", import.meta.url))
const reports = fileURLToPath(new URL("../../reports/", import.meta.url))

// Debian's chromium, as in vitest.shared.ts (which this type-checked project cannot import).
const launch = Effect.acquireRelease(
  Effect.promise(() =>
    chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
    })
  ),
  (browser) => Effect.promise(() => browser.close())
)

/** The terminal client, as `pnpm chat` runs it: stdin lines in, stdout lines out. */
const terminal = (port: number, name: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, [`${examples}dist/chat/main.js`, "client", "--port", String(port), "--name", name], {
        stdio: ["pipe", "pipe", "inherit"]
      })
      let output = ""
      child.stdout.setEncoding("utf8").on("data", (text: string) => (output += text))
      return { say: (line: string) => child.stdin.write(`${line}\n`), output: () => output, child }
    }),
    ({ child }) => Effect.sync(() => child.kill("SIGKILL"))
  )

/** Polls (bounded) until `check` holds; the page and the child report through their output only. */
const eventually = (check: () => Promise<boolean> | boolean, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 200; i++) {
      if (yield* Effect.promise(async () => check())) return
      yield* Effect.sleep("50 millis")
    }
    return yield* Effect.die(`timed out waiting for ${what}`)
  })

const logOf = (page: Page) => page.locator("#log").innerText()
const say = (page: Page, text: string) =>
  Effect.promise(async () => {
    await page.fill("#text", text)
    await page.click("button")
  })

describe("chat demo, end to end", () => {
  it.live("two pages and a terminal chat; a page cut off server-side reconnects and keeps chatting", () =>
    Effect.gen(function*() {
      yield* Effect.promise(() => build({ configFile: `${examples}chat/vite.config.ts` }))
      const server = yield* serveChat({ host: "127.0.0.1", port: 0 }).pipe(Effect.provide(layerWithPage(`${examples}chat-page`)))
      const browser: Browser = yield* launch
      const open = (name: string) =>
        Effect.promise(async () => {
          const page = await browser.newPage()
          await page.goto(`${server.url}?name=${name}`)
          return page
        })
      const alice = yield* open("alice")
      const bob = yield* open("bob")
      const term = yield* terminal(server.port, "tess")
      yield* eventually(async () => (await alice.innerText("#status")) === "connected" && (await bob.innerText("#status")) === "connected", "both pages to connect")
      yield* eventually(() => term.output().includes("* connected"), "the terminal to connect")
      // The page says which server process it is on and how many people are online.
      yield* eventually(async () => (await alice.innerText("#where")) === `· server ${server.name} · 3 online`, "alice to see 3 online")
      expect(term.output()).toContain(`* on server ${server.name}`)

      yield* say(alice, "hello from alice")
      term.say("hello from the terminal")
      for (const line of ["alice:hello from alice", "tess:hello from the terminal"]) {
        const [from, text] = line.split(":") as [string, string]
        yield* eventually(async () => (await logOf(alice)).includes(`${from}:${text}`) || (await logOf(alice)).includes(`${from}: ${text}`), `alice to see ${line}`)
        yield* eventually(async () => (await logOf(bob)).includes(text), `bob to see ${line}`)
        yield* eventually(() => term.output().includes(`${from}: ${text}`), `the terminal to see ${line}`)
      }

      // Cut alice's connection server-side (no close frame): her page notices and reconnects.
      yield* server.kick("alice")
      yield* eventually(async () => (await alice.innerText("#status")).startsWith("disconnected"), "alice to notice the cut")
      yield* eventually(async () => (await alice.innerText("#status")) === "connected", "alice to reconnect")
      yield* say(alice, "back again")
      yield* eventually(async () => (await logOf(bob)).includes("back again"), "bob to see alice after her reconnect")
      yield* eventually(() => term.output().includes("alice: back again"), "the terminal to see alice after her reconnect")

      mkdirSync(reports, { recursive: true })
      yield* Effect.promise(() => alice.screenshot({ path: `${reports}chat.png` }))
      expect(yield* Effect.promise(() => logOf(bob))).toContain("hello from the terminal")
    }).pipe(Effect.scoped, Effect.provide(Hub.layer)), 90_000)
})
