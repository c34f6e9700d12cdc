import asyncio
import signal
import sys
from pathlib import Path

import pytest

from dask_kubernetes_dev.nodeagent import logs, runtime


def test_mount_script_orders_commands_and_quotes():
    mounts = [runtime.Mount(Path("/src dir"), "/etc/x", True)]
    script = runtime.mount_script("my-pod", mounts, "/work dir")
    lines = script.splitlines()
    assert lines[0] == "set -e"
    assert lines[1] == "hostname my-pod"
    assert "mount --bind '/src dir' /etc/x" in lines
    assert "mount -o remount,bind,ro /etc/x" in lines
    assert lines[-2:] == ["cd '/work dir'", 'exec "$@"']
    assert "hostname" not in runtime.mount_script(None, [], "/")


def test_hostname_is_truncated_to_63():
    assert "hostname " + "a" * 63 in runtime.mount_script("a" * 80, [], "/")


def test_wrapper_argv_runs_inside_the_netns():
    argv = runtime.wrapper_argv("dk0-1", "p", [], "/", ["python", "-c", "x"])
    assert argv[:7] == ["setpriv", "--pdeathsig", "KILL", "ip", "netns", "exec", "dk0-1"]
    assert argv[-3:] == ["python", "-c", "x"]


def test_check_executable_and_exit_codes():
    runtime.check_executable(["sh"], {"PATH": "/usr/bin:/bin"})
    runtime.check_executable(["/no/such/path"], {"PATH": ""})  # paths are checked by the exec itself
    with pytest.raises(runtime.StartError, match="not found in \\$PATH"):
        runtime.check_executable(["no-such-command-xyz"], {"PATH": "/usr/bin"})
    assert runtime.exit_code(-signal.SIGKILL) == 137
    assert runtime.exit_code(3) == 3


def read(path):
    return b"".join(e.render(False) for e in map(logs.parse_line, path.read_bytes().splitlines()))


def test_process_logs_and_exit_code(tmp_path):
    async def go():
        code = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(4)"
        proc = await runtime.ContainerProcess.start(
            [sys.executable, "-c", code], {}, tmp_path, tmp_path / "0.log"
        )
        return await proc.wait(), proc.finished

    assert asyncio.run(go()) == (4, True)
    assert sorted(read(tmp_path / "0.log").splitlines()) == [b"err", b"out"]


def test_stop_escalates_to_sigkill(tmp_path):
    async def go():
        code = (
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('up', flush=True); time.sleep(60)"
        )
        proc = await runtime.ContainerProcess.start(
            [sys.executable, "-c", code], {}, tmp_path, tmp_path / "0.log"
        )
        while b"up" not in (tmp_path / "0.log").read_bytes():
            await asyncio.sleep(0.05)
        return await proc.stop(0.5)

    assert asyncio.run(go()) == 137


def test_start_error_for_missing_binary(tmp_path):
    async def go():
        await runtime.ContainerProcess.start(["/no/such/binary"], {}, tmp_path, tmp_path / "0.log")

    with pytest.raises(runtime.StartError):
        asyncio.run(go())
