import signal
import sys
import time
from pathlib import Path

import pytest
from google.cloud import firestore

from issuetracker.emulator import (
    STANDARD_JAR,
    EmulatorError,
    FirestoreEmulator,
    find_jar,
)
from issuetracker.testing import start_manage


def _alive(pid: int) -> bool:
    """Running: neither gone nor a zombie (a sandbox's init may reap late)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _client(emulator: FirestoreEmulator, monkeypatch) -> firestore.Client:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator.address)
    return firestore.Client(project=emulator.project)


def test_find_jar_names_both_places_and_how_to_install(tmp_path):
    missing = tmp_path / "nowhere.jar"
    if STANDARD_JAR.is_file():
        assert find_jar({"FIRESTORE_EMULATOR_JAR": str(missing)}) == STANDARD_JAR
    else:
        with pytest.raises(EmulatorError) as error:
            find_jar({"FIRESTORE_EMULATOR_JAR": str(missing)})
        message = str(error.value)
        assert str(missing) in message
        assert str(STANDARD_JAR) in message
        assert "apt-get install" in message


def test_find_jar_prefers_the_configured_jar(tmp_path):
    jar = tmp_path / "emulator.jar"
    jar.write_bytes(b"")
    assert find_jar({"FIRESTORE_EMULATOR_JAR": str(jar)}) == jar


def test_runner_starts_answers_and_stops_without_leaving_java(monkeypatch):
    emulator = FirestoreEmulator(project="demo-runner").start()
    pid = emulator.pid
    assert pid is not None
    assert emulator.is_answering()
    _client(emulator, monkeypatch).collection("c").document("d").set({"a": 1})
    emulator.stop()
    assert not emulator.is_answering()
    assert not _alive(pid)


def test_start_reports_a_busy_port(firestore_emulator):
    emulator = FirestoreEmulator(project="demo-runner", port=firestore_emulator.port)
    with pytest.raises(EmulatorError, match="already in use"):
        emulator.start(timeout=20)
    assert emulator.pid is None


def test_data_survives_a_restart_through_export_and_import(tmp_path, monkeypatch):
    with FirestoreEmulator(project="demo-runner", data_dir=tmp_path) as emulator:
        _client(emulator, monkeypatch).collection("c").document("d").set({"kept": True})
    assert (tmp_path / "snapshot").is_dir()
    with FirestoreEmulator(project="demo-runner", data_dir=tmp_path) as emulator:
        document = _client(emulator, monkeypatch).collection("c").document("d").get()
        assert document.to_dict() == {"kept": True}


def test_command_runs_a_child_with_the_emulator_and_stops_it():
    child = "import os; print('HOST=' + os.environ['FIRESTORE_EMULATOR_HOST'])"
    process = start_manage(
        "firestore_emulator",
        "--no-persist",
        "--",
        sys.executable,
        "-c",
        child,
        drop={"FIRESTORE_EMULATOR_HOST"},
    )
    output, _ = process.communicate(timeout=90)
    assert process.returncode == 0, output
    host = next(line for line in output.splitlines() if line.startswith("HOST="))
    port = int(host.rsplit(":", 1)[1])
    assert not FirestoreEmulator(project="x", port=port).is_answering()


def test_command_stops_the_emulator_on_sigterm():
    process = start_manage(
        "firestore_emulator", "--no-persist", drop={"FIRESTORE_EMULATOR_HOST"}
    )
    assert process.stdout is not None
    line = ""
    while "Firestore emulator on" not in line:
        line = process.stdout.readline()
        assert line, "the command ended before the emulator answered"
    port = int(line.split(" on ")[1].split()[0].rsplit(":", 1)[1])
    assert FirestoreEmulator(project="x", port=port).is_answering()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    time.sleep(0.2)
    assert not FirestoreEmulator(project="x", port=port).is_answering()


def test_command_stops_everything_its_child_started_on_sigterm(tmp_path):
    # As `make run`: a shell starting a background worker, then a foreground one.
    pids = tmp_path / "pids"
    script = f"sleep 300 & echo $! > {pids}; echo $$ >> {pids}; sleep 300"
    process = start_manage(
        "firestore_emulator",
        "--no-persist",
        "--",
        "sh",
        "-c",
        script,
        drop={"FIRESTORE_EMULATOR_HOST"},
    )
    deadline = time.monotonic() + 90
    while len(_read_pids(pids)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    started = _read_pids(pids)
    assert len(started) == 2

    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=30) == 0
    time.sleep(0.2)
    assert [pid for pid in started if _alive(pid)] == []


def _read_pids(path) -> list[int]:
    return [int(n) for n in path.read_text().split()] if path.exists() else []
