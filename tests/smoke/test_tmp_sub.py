import asyncio, sys, time
import tests.runtime.test_smoke as t

async def test_sub(start_app, monkeypatch):
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.smoke.server", "--port", "0",
                                                stdout=asyncio.subprocess.PIPE)
    try:
        line = (await proc.stdout.readline()).decode()
        url = line.split()[-1]
        async def fs(functions):
            return url
        await t.test_smoke_exactly_once_counting(fs, start_app)
    finally:
        proc.terminate(); await proc.wait()
