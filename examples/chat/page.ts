/**
 * Node's edge of the chat: the portable `Server` as `NodeServer` with the page served to plain
 * HTTP requests on the same port (`onRequest`, which only Node's server has).
 */
import { Server } from "@bytechannel/core"
import { NodeServer } from "@bytechannel/node"
import * as Layer from "effect/Layer"
import { readFile } from "node:fs/promises"
import type * as Http from "node:http"
import { extname, join, normalize } from "node:path"

const types: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" }

const servePage = (pageDir: string) => (request: Http.IncomingMessage, response: Http.ServerResponse) => {
  const path = new URL(request.url ?? "/", "http://x").pathname
  const file = normalize(join(pageDir, path === "/" ? "index.html" : path))
  if (!file.startsWith(normalize(pageDir))) {
    response.writeHead(403).end()
    return
  }
  readFile(file).then(
    (body) => response.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(body),
    () => response.writeHead(404, { "content-type": "text/plain" }).end("not found\n")
  )
}

/** `NodeServer.layerServer`, with `pageDir` (the built page: index.html and its assets) served over plain HTTP. */
export const layerWithPage = (pageDir: string) =>
  Layer.succeed(
    Server.Server,
    Server.Server.of({ serve: (options, handler) => NodeServer.serve({ ...options, onRequest: servePage(pageDir) }, handler) })
  )
