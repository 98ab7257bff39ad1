from fastapi import FastAPI
app = FastAPI()
@app.get('/test1')
async def test1():
  return {"message": "test"}
@app.post('/test2')
async def test():
  return {'message': "test2"}
@app.post('/test3')
async def test1(message: str):
  return {'message': message}

# Not in the seed app: a streamed reply, three server-sent events 200 ms apart, for AWS_LWA_INVOKE_MODE=response_stream
# (a Function URL, or `curl -N` on the local emulator, sees each as it is sent).
import asyncio
from fastapi.responses import StreamingResponse
@app.get('/events')
async def events():
  async def ticks():
    for n in range(1, 4):
      yield f"data: tick {n}\n\n"
      await asyncio.sleep(0.2)
  return StreamingResponse(ticks(), media_type="text/event-stream")
