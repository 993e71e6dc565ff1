"""A python-websockets client for wskit's interoperability tests.

Usage: /usr/bin/python3 client.py URL [--no-compression]
Sends text, binary and fragmented messages to an echo server, checks every echo, pings, then
closes with 4000 "done". Prints one JSON object with what it saw; exits 1 on a mismatch.
"""
import asyncio
import json
import os
import sys

import websockets


async def main(url):
    compression = None if "--no-compression" in sys.argv else "deflate"
    report = {"echoed": 0, "failures": []}
    async with websockets.connect(url, max_size=None, compression=compression) as ws:
        report["extensions"] = [type(e).__name__ for e in ws.extensions]
        messages = ["", "hello", "κόσμε 🎉" * 100, "x" * 70000]
        messages += [b"", bytes(range(256)), os.urandom(65536), os.urandom(1 << 20)]
        for message in messages:
            await ws.send(message)
            echo = await ws.recv()
            if echo == message:
                report["echoed"] += 1
            else:
                report["failures"].append(f"echo of a {type(message).__name__} of {len(message)} differs")
        # A message sent in fragments comes back whole.
        await ws.send(["frag", "mented ", "text"])
        echo = await ws.recv()
        if echo != "fragmented text":
            report["failures"].append(f"fragmented echo was {echo!r}")
        pong = await ws.ping(b"ping payload")
        await asyncio.wait_for(pong, 5)
        report["pong"] = True
        await ws.close(4000, "done")
        report["close_code"] = ws.close_code
        report["close_reason"] = ws.close_reason
    print(json.dumps(report), flush=True)
    sys.exit(1 if report["failures"] else 0)


asyncio.run(main(sys.argv[1]))
