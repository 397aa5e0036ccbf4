// The transport contract (core's test/contract/suite.ts) on the TCP transport: our client and our
// server (serveTcp), each against the other and against a plain `node:net` end.
import { transportContract } from "../../core/test/contract/suite.js"
import { serveTcpToRawClient, serveTcpToTcpClient, TCP, tcpClientToRawServer, tcpClientToServeTcp } from "./contract/transports.js"

transportContract("tcp client ↔ serveTcp", {
  clock: "live",
  capabilities: TCP,
  peerCanHang: false,
  connect: tcpClientToServeTcp
})

transportContract("serveTcp ↔ tcp client", {
  clock: "live",
  capabilities: TCP,
  peerCanHang: false,
  connect: serveTcpToTcpClient
})

transportContract("tcp client ↔ plain net server", {
  clock: "live",
  capabilities: TCP,
  peerCanHang: true,
  connect: tcpClientToRawServer
})

transportContract("serveTcp ↔ plain net client", {
  clock: "live",
  capabilities: TCP,
  peerCanHang: true,
  connect: serveTcpToRawClient
})
