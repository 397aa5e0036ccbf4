// Child process for the "peer killed mid-frame" test: a ws server that, on connection, writes
// the head of a 1 MiB binary frame and 1000 bytes of it, prints "mid-frame" and waits to be killed.
import type * as Net from "node:net"
import { WebSocketServer } from "ws"

const wss: WebSocketServer = new WebSocketServer({ host: "127.0.0.1", port: 0 }, () => console.log((wss.address() as Net.AddressInfo).port))
wss.on("connection", (ws) => {
  const head = Buffer.from([0x82, 127, 0, 0, 0, 0, 0, 0x10, 0, 0]) // FIN + binary, 64-bit length 1 MiB
  const socket = (ws as unknown as { readonly _socket: Net.Socket })._socket
  socket.write(Buffer.concat([head, Buffer.alloc(1000, 1)]), () => console.log("mid-frame"))
})
