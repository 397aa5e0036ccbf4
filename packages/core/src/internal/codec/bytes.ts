/**
 * The identity codec: every chunk is a frame, every frame is written as it is.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import type { Codec, Decoder } from "./types.js"

const decoder: Decoder<Uint8Array> = {
  decode: (chunk, out) => {
    out.push(chunk)
    return undefined
  },
  end: () => undefined
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const bytes: Codec<Uint8Array> = {
  name: "bytes",
  decoder: () => decoder,
  encode: Either.right
}
