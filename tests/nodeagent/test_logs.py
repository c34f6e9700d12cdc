import asyncio
import datetime

from dask_kubernetes_dev.nodeagent import logs


def test_writer_produces_cri_lines_and_flushes_partials(tmp_path):
    path = tmp_path / "c" / "0.log"
    writer = logs.LogWriter(path)
    writer.feed("stdout", b"hello\n\nwor")
    writer.feed("stderr", b"oops\n")
    writer.feed("stdout", b"ld\nlast")
    writer.close()
    entries = [logs.parse_line(line) for line in path.read_bytes().splitlines()]
    assert [(e.stream, e.content, e.partial) for e in entries] == [
        ("stdout", b"hello", False),
        ("stdout", b"", False),
        ("stderr", b"oops", False),
        ("stdout", b"world", False),
        ("stdout", b"last", False),
    ]
    assert entries[0].timestamp.endswith("000Z") and len(entries[0].timestamp) == 30


def test_long_lines_are_split_into_partials(tmp_path):
    path = tmp_path / "0.log"
    writer = logs.LogWriter(path)
    writer.feed("stdout", b"x" * (logs.MAX_LINE + 10) + b"\n")
    writer.close()
    entries = [logs.parse_line(line) for line in path.read_bytes().splitlines()]
    assert [e.partial for e in entries] == [True, False]
    assert b"".join(e.render(False) for e in entries) == b"x" * (logs.MAX_LINE + 10) + b"\n"


def test_options_from_query():
    opts = logs.LogOptions.from_query(
        {"follow": "true", "tailLines": "3", "timestamps": "1", "previous": "false"}
    )
    assert opts.follow and opts.tail == 3 and opts.timestamps and not opts.previous
    since = logs.LogOptions.from_query({"sinceTime": "2026-01-01T00:00:00Z"}).since
    assert since == datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def collect(path, options, finished=lambda: True):
    async def go():
        return b"".join([chunk async for chunk in logs.stream_log(path, options, finished)])

    return asyncio.run(go())


def write_lines(path, *lines):
    writer = logs.LogWriter(path)
    for line in lines:
        writer.feed("stdout", line + b"\n")
    writer.close()


def test_stream_tail_timestamps_limit(tmp_path):
    path = tmp_path / "0.log"
    write_lines(path, b"one", b"two", b"three")
    assert collect(path, logs.LogOptions()) == b"one\ntwo\nthree\n"
    assert collect(path, logs.LogOptions(tail=2)) == b"two\nthree\n"
    assert collect(path, logs.LogOptions(tail=0)) == b""
    assert collect(path, logs.LogOptions(limit_bytes=5)) == b"one\nt"
    stamped = collect(path, logs.LogOptions(timestamps=True, tail=1))
    assert stamped.endswith(b"Z three\n") and stamped[:4].isdigit()
    future = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    assert collect(path, logs.LogOptions(since=future)) == b""


def test_follow_streams_until_finished(tmp_path):
    path = tmp_path / "0.log"
    writer = logs.LogWriter(path)
    writer.feed("stdout", b"first\n")
    state = {"done": False}

    async def go():
        chunks = []

        async def produce():
            await asyncio.sleep(0.3)
            writer.feed("stdout", b"second\n")
            writer.close()
            state["done"] = True

        producer = asyncio.create_task(produce())
        async for chunk in logs.stream_log(path, logs.LogOptions(follow=True), lambda: state["done"]):
            chunks.append(chunk)
        await producer
        return b"".join(chunks)

    assert asyncio.run(go()) == b"first\nsecond\n"
