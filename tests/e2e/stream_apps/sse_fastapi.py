"""A FastAPI app streaming server-sent events, as users write them (StreamingResponse over an async generator).

GET /events?count=N&gate=PATH: N events 'data: tick i'; before the last one the app waits (up to 20 s) until the
file PATH exists, so a test can prove the first events reached the client while the app was still producing.
"""
import asyncio
import os

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()


@app.get('/events')
async def events(count: int = 3, gate: str = ''):
    async def ticks():
        for i in range(1, count + 1):
            if i == count and gate:
                for _ in range(4000):
                    if os.path.exists(gate):
                        break
                    await asyncio.sleep(0.005)
            yield f'data: tick {i}\n\n'
    return StreamingResponse(ticks(), media_type='text/event-stream', headers={'Cache-Control': 'no-cache'})
