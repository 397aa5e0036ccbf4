/**
 * The identity codec: every chunk is a frame, every frame is written as it is.
 *
 * @internal
 */
import type { PlainCodec, PlainDecoder } from "./types.js"

const decoder: PlainDecoder<Uint8Array> = {
  decode: (chunk, out) => {
    out.push(chunk)
    return undefined
  },
  end: () => undefined
}

/** @internal */
export const bytes: PlainCodec<Uint8Array> = {
  name: "bytes",
  decoder: () => decoder,
  encode: (frame) => frame
}
