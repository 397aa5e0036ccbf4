// The benchmark server, in its own process so client and server each get a core: a raw `ws`
// server (the same for every contender) and a node:net server for the TCP ceiling.
//   ws  /sink?total=N   counts binary bytes, sends the text "ok" once N arrived
//   ws  /echo           sends every message back
//   ws  /frames?kind=ndjson|varint&count=N   sends N pre-encoded frames in 64 KiB messages, then closes 1000
//   tcp sink port       counts bytes up to TOTAL (argv[2]), writes one byte "k"
//   tcp echo port       echoes
//   ws  /flood?mb=N&id=X   sends N MiB in 64 KiB messages at once (no backpressure of its own)
//   http /stats?id=X     {"bufferedAmount": n} of that connection
//   http /cpu            {"cpuMs": n}: this process's CPU time (user + system) so far
// Prints {"ws": port, "tcpSink": port, "tcpEcho": port} once listening.
import * as Http from "node:http"
import * as Net from "node:net"
import { WebSocketServer } from "ws"

const tcpTotal = Number(process.argv[2] ?? 0)

// Pre-encoded frame streams, cut into 64 KiB messages (frames span messages, as on a real wire).
const encoded = new Map()
const frames = (kind, count) => {
  const key = `${kind}:${count}`
  if (!encoded.has(key)) {
    const parts = []
    if (kind === "ndjson") {
      for (let i = 0; i < count; i++) parts.push(Buffer.from(JSON.stringify({ from: "ann", text: `message number ${i}`, at: 1700000000000 + i }) + "\n"))
    } else {
      const payload = Buffer.alloc(100, 5)
      const prefix = Buffer.from([100]) // 100 < 128: a one-byte varint
      for (let i = 0; i < count; i++) parts.push(prefix, payload)
    }
    const all = Buffer.concat(parts)
    const chunks = []
    for (let i = 0; i < all.length; i += 65536) chunks.push(all.subarray(i, Math.min(all.length, i + 65536)))
    encoded.set(key, chunks)
  }
  return encoded.get(key)
}
const byId = new Map()
const http = Http.createServer((request, response) => {
  const url = new URL(request.url, "http://x")
  if (url.pathname === "/cpu") {
    // This process's CPU time (user + system) so far, in ms: a run's is the difference.
    const { user, system } = process.cpuUsage()
    response.writeHead(200, { "content-type": "application/json" })
    return response.end(JSON.stringify({ cpuMs: (user + system) / 1000 }))
  }
  const ws = byId.get(url.searchParams.get("id"))
  response.writeHead(200, { "content-type": "application/json" })
  response.end(JSON.stringify({ bufferedAmount: ws ? ws.bufferedAmount : null }))
})
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 })
wss.on("connection", (ws, request) => {
  const url = new URL(request.url, "http://x")
  if (url.searchParams.get("id")) byId.set(url.searchParams.get("id"), ws)
  if (url.pathname === "/flood") {
    const chunk = Buffer.alloc(64 * 1024, 1)
    for (let i = 0; i < Number(url.searchParams.get("mb")) * 16; i++) ws.send(chunk)
  } else if (url.pathname === "/sink") {
    const total = Number(url.searchParams.get("total"))
    let received = 0
    ws.on("message", (data) => {
      received += data.length
      if (received >= total) ws.send("ok")
    })
  } else if (url.pathname === "/frames") {
    for (const chunk of frames(url.searchParams.get("kind"), Number(url.searchParams.get("count")))) ws.send(chunk)
    ws.close(1000)
  } else {
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }))
  }
})
const tcpSink = Net.createServer({ noDelay: true }, (socket) => {
  let received = 0
  socket.on("data", (chunk) => {
    received += chunk.length
    if (received >= tcpTotal) socket.write("k")
  })
  socket.on("error", () => {})
})
const tcpEcho = Net.createServer({ noDelay: true }, (socket) => {
  socket.pipe(socket)
  socket.on("error", () => {})
})
const listen = (server) => new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)))
const ports = { ws: await listen(http), tcpSink: await listen(tcpSink), tcpEcho: await listen(tcpEcho) }
console.log(JSON.stringify(ports))
