/**
 * Runs in Node before the browser tests: a plain `ws` server (an implementation independent of
 * ours) on 127.0.0.1 with one endpoint per behaviour, an HTTP stats endpoint, a TCP port that
 * never answers, and a closed port. Handed to the tests with `provide`.
 */
import * as Http from "node:http"
import * as Net from "node:net"
import type { TestProject } from "vitest/node"
import { WebSocketServer, type WebSocket } from "ws"

declare module "vitest" {
  export interface ProvidedContext {
    servers: { ws: string; http: string; silent: string; closed: string }
  }
}

const listen = (server: Net.Server) =>
  new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as Net.AddressInfo).port)))

export default async function setup(project: TestProject) {
  const stats = new Map<string, { ws: WebSocket; received: number; close: { code: number; reason: string } | undefined }>()
  const http = Http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://x")
    const entry = stats.get(url.searchParams.get("id") ?? "")
    response.writeHead(200, { "content-type": "application/json", "access-control-allow-origin": "*" })
    response.end(JSON.stringify(entry ? { bufferedAmount: entry.ws.bufferedAmount, received: entry.received, close: entry.close ?? null } : null))
  })
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 })
  wss.on("connection", (ws, request) => {
    const url = new URL(request.url ?? "/", "http://x")
    const id = url.searchParams.get("id")
    const entry = { ws, received: 0, close: undefined as { code: number; reason: string } | undefined }
    if (id) stats.set(id, entry)
    ws.on("message", (data: Buffer) => (entry.received += data.length))
    ws.on("close", (code, reason) => (entry.close = { code, reason: reason.toString() }))
    switch (url.pathname) {
      case "/echo":
        ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }))
        break
      case "/close":
        ws.close(Number(url.searchParams.get("code")), url.searchParams.get("reason") ?? "")
        break
      case "/text":
        ws.send(Buffer.from([1, 2, 3]))
        ws.send("héllo € 𝄞")
        ws.send(Buffer.from([4, 5]))
        break
      case "/flood": {
        const chunk = Buffer.alloc(64 * 1024, 9)
        const count = Number(url.searchParams.get("mb")) * 16
        for (let i = 0; i < count; i++) ws.send(chunk)
        break
      }
      case "/pause":
      case "/never-close":
        ws.pause()
        break
      case "/terminate":
        ws.once("message", () => ws.terminate())
        break
    }
  })
  const httpPort = await listen(http)
  const sockets = new Set<Net.Socket>()
  const silent = Net.createServer((socket) => sockets.add(socket))
  const silentPort = await listen(silent)
  const probe = Net.createServer()
  const closedPort = await listen(probe)
  await new Promise<void>((resolve) => probe.close(() => resolve()))

  project.provide("servers", {
    ws: `ws://127.0.0.1:${httpPort}`,
    http: `http://127.0.0.1:${httpPort}`,
    silent: `ws://127.0.0.1:${silentPort}`,
    closed: `ws://127.0.0.1:${closedPort}`
  })

  return async () => {
    for (const client of wss.clients) client.terminate()
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
    await new Promise<void>((resolve) => http.close(() => resolve()))
    await new Promise<void>((resolve) => silent.close(() => resolve()))
  }
}
