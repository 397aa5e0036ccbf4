/**
 * The contract peer of a browser subject: a plain `ws` end in the Node peer host, driven from the
 * page (core's test/contract/remote/remotePeer.ts, shared with the Bun and Deno projects).
 */
export { remoteClientPeer, remotePeer } from "../../../core/test/contract/remote/remotePeer.js"
