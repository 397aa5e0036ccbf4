// Before the Deno tests: the peer host (plain `ws` peers) in a Node 22 child process.
import type { TestProject } from "vitest/node"
import { startNodeHost } from "../../core/test/contract/remote/globalSetup.js"

export default (project: TestProject) => startNodeHost(project, new URL("..", import.meta.url))
