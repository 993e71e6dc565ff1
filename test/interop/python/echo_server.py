"""A python-websockets echo server for wskit's interoperability tests.

Usage: /usr/bin/python3 echo_server.py [--no-compression]
Prints the port it listens on (127.0.0.1), then echoes every message. A text message
"close CODE REASON" makes it close the connection with that code and reason instead.
"""
import asyncio
import sys

import websockets


async def handler(ws, path=None):
    try:
        async for message in ws:
            if isinstance(message, str) and message.startswith("close "):
                _, code, reason = message.split(" ", 2)
                await ws.close(int(code), reason)
                return
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


async def main():
    compression = None if "--no-compression" in sys.argv else "deflate"
    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None, compression=compression) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


asyncio.run(main())
