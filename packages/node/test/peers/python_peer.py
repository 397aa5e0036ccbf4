"""An independent WebSocket peer for interop tests (Python `websockets`, Debian python3-websockets).

server: listens on 127.0.0.1 (OS-chosen port, printed as the first stdout line). Reads
        length-delimited frames (4-byte big-endian) until the frame END, then sends every frame
        back with the byte stream cut at random points into binary messages, text messages mixed
        in, and closes with 4000 "bye".
client URL: connects to URL, sends COUNT frames cut at random points with text messages mixed
        in, waits for the server to close, prints {"code": ..., "reason": ...} and exits.
"""
import asyncio
import json
import random
import struct
import sys

import websockets

COUNT = 300
END = b"\xffEND"


def frame_payload(i):
    size = (i * 7919) % 3000
    return bytes(((i * 7 + j) & 0xFF) for j in range(size))


def length_delimited(payloads):
    return b"".join(struct.pack(">I", len(p)) + p for p in payloads)


async def send_chopped(ws, stream, rng):
    offset = 0
    while offset < len(stream):
        size = rng.randint(1, 4096)
        await ws.send(stream[offset:offset + size])
        offset += size
        if rng.random() < 0.2:
            await ws.send("text noise: ünïcödé")


async def serve():
    async def handler(ws, path=None):
        buffer = b""
        frames = []
        async for message in ws:
            if isinstance(message, str):
                continue
            buffer += message
            while len(buffer) >= 4:
                (length,) = struct.unpack(">I", buffer[:4])
                if len(buffer) < 4 + length:
                    break
                frames.append(buffer[4:4 + length])
                buffer = buffer[4 + length:]
            if frames and frames[-1] == END:
                break
        await send_chopped(ws, length_delimited(frames[:-1]), random.Random(1))
        await ws.close(code=4000, reason="bye")

    async with websockets.serve(handler, "127.0.0.1", 0, max_size=16 * 1024 * 1024) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await asyncio.Future()


async def client(url):
    async with websockets.connect(url, max_size=16 * 1024 * 1024) as ws:
        stream = length_delimited([frame_payload(i) for i in range(COUNT)])
        await send_chopped(ws, stream, random.Random(2))
        try:
            async for _ in ws:
                pass
        except websockets.ConnectionClosed:
            pass
        await ws.wait_closed()
        print(json.dumps({"code": ws.close_code, "reason": ws.close_reason}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        asyncio.run(serve())
    else:
        asyncio.run(client(sys.argv[2]))
