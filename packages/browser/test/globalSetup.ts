/**
 * Runs in Node before the browser tests: the peer host (core's test/contract/remote/host.ts), a
 * plain `ws` server with one endpoint per behaviour and the transport contract's peers, an HTTP
 * stats endpoint, a TCP port that never answers, and a closed port. Handed to the tests with
 * `provide` (`inject("servers")`).
 */
import type { TestProject } from "vitest/node"
import * as ws from "ws"
import { startHost, type WsModule } from "../../core/test/contract/remote/host.js"
import type {} from "../../core/test/contract/remote/globalSetup.js"

export default async function setup(project: TestProject) {
  const host = await startHost(ws as unknown as WsModule)
  project.provide("servers", host.servers)
  return host.close
}
