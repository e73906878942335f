"""Run Google's official Firestore emulator: find it, start it, reset, export, stop.

Used by `make run` (through the `firestore_emulator` command) and by the test suite.
The emulator is a Java process started in its own session, so a Ctrl-C meant for the
dev server does not kill it before its data is exported; it is also tied to this
process's life on Linux, so it never outlives the runner.
"""

import ctypes
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Self

logger = logging.getLogger(__name__)

STANDARD_JAR = Path(
    "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar"
)
MAIN_CLASS = "com.google.cloud.datastore.emulator.firestore.CloudFirestore"
SNAPSHOT_NAME = "snapshot"
_PR_SET_PDEATHSIG = 1


class EmulatorError(RuntimeError):
    """The emulator cannot be found, started or talked to."""


def find_jar(environ: Mapping[str, str] = os.environ) -> Path:
    """Return the emulator JAR: FIRESTORE_EMULATOR_JAR first, then gcloud's location."""
    configured = environ.get("FIRESTORE_EMULATOR_JAR")
    candidates = ([Path(configured)] if configured else []) + [STANDARD_JAR]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise EmulatorError(
        "Firestore emulator JAR not found. Looked at FIRESTORE_EMULATOR_JAR "
        f"({configured or 'not set'}) and {STANDARD_JAR}. Install it with "
        "`apt-get install google-cloud-cli-firestore-emulator` (or `gcloud components "
        "install cloud-firestore-emulator`), or set FIRESTORE_EMULATOR_JAR to the path "
        "of cloud-firestore-emulator.jar."
    )


def find_java(environ: Mapping[str, str] = os.environ) -> str:
    """Return the java executable (JAVA_HOME first, then PATH); Java 17+ is needed."""
    java_home = environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found:
        return found
    raise EmulatorError(
        "Java not found: the Firestore emulator needs Java 17 or newer "
        "(`apt-get install openjdk-17-jre-headless`), on PATH or under JAVA_HOME."
    )


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on host:port (so a new server could bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM it when the runner dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # Not Linux: stop() and the atexit path still stop it.


class FirestoreEmulator:
    """One emulator process on 127.0.0.1, optionally persisting into `data_dir`."""

    def __init__(
        self,
        *,
        project: str,
        port: int | None = None,
        host: str = "127.0.0.1",
        data_dir: Path | None = None,
        jar: Path | None = None,
    ) -> None:
        self.project = project
        self.host = host
        self.port = port or free_port(host)
        self.data_dir = data_dir.resolve() if data_dir else None
        self.jar = jar
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def address(self) -> str:
        """`host:port`, the value FIRESTORE_EMULATOR_HOST takes."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The Java process id while it runs."""
        return self._process.pid if self._process else None

    def _snapshot_metadata(self) -> Path | None:
        if self.data_dir is None:
            return None
        metadata = (
            self.data_dir / SNAPSHOT_NAME / f"{SNAPSHOT_NAME}.overall_export_metadata"
        )
        return metadata if metadata.is_file() else None

    def start(self, *, timeout: float = 60.0) -> Self:
        """Start the emulator and return once it answers; raise if it cannot."""
        if self._process is not None:
            raise EmulatorError("The emulator is already running.")
        # Checked first: a busy port's own server would answer the readiness probe.
        if not port_is_free(self.host, self.port):
            raise EmulatorError(f"Port {self.port} on {self.host} is already in use.")
        command = [
            find_java(),
            "-Duser.language=en",
            "-cp",
            str(self.jar or find_jar()),
            MAIN_CLASS,
            "start",
            f"--host={self.host}",
            f"--port={self.port}",
        ]
        metadata = self._snapshot_metadata()
        if metadata:
            command.append(f"--import-data={metadata}")
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _cleanup
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self._wait_until_ready(timeout)
        logger.info("Firestore emulator answering on %s", self.address)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                output = self._output()
                self._cleanup()
                raise EmulatorError(
                    f"The Firestore emulator exited on start:\n{output}"
                )
            if self.is_answering():
                return
            time.sleep(0.1)
        output = self._output()
        self.stop(export=False)
        raise EmulatorError(
            f"The Firestore emulator did not answer on {self.address} within "
            f"{timeout:.0f} s:\n{output}"
        )

    def is_answering(self) -> bool:
        """Whether the emulator answers its root URL with `Ok`."""
        try:
            with urllib.request.urlopen(
                f"http://{self.address}/", timeout=1
            ) as response:
                return bool(response.read().strip() == b"Ok")
        except (urllib.error.URLError, OSError):
            return False

    def _request(self, method: str, path: str, body: bytes | None = None) -> None:
        request = urllib.request.Request(
            f"http://{self.address}{path}",
            data=body,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - http only
                pass
        except (urllib.error.URLError, OSError) as error:
            raise EmulatorError(f"{method} {path} failed: {error}") from error

    def reset(self) -> None:
        """Delete every document of the project's default database."""
        self._request(
            "DELETE",
            f"/emulator/v1/projects/{self.project}/databases/(default)/documents",
        )

    def export(self) -> None:
        """Write all data to `data_dir`, replacing the previous snapshot."""
        if self.data_dir is None:
            raise EmulatorError("This emulator has no data directory to export to.")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Export beside the old snapshot, then swap, so a failed export loses nothing.
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=self.data_dir))
        try:
            body = json.dumps(
                {
                    "database": f"projects/{self.project}/databases/(default)",
                    "export_directory": str(staging),
                    "export_name": SNAPSHOT_NAME,
                }
            ).encode()
            self._request("POST", f"/emulator/v1/projects/{self.project}:export", body)
            target = self.data_dir / SNAPSHOT_NAME
            if target.exists():
                shutil.rmtree(target)
            (staging / SNAPSHOT_NAME).rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def stop(self, *, export: bool = True) -> None:
        """Export (when persisting) and stop the emulator; safe to call twice."""
        if self._process is None:
            return
        if export and self.data_dir is not None and self._process.poll() is None:
            try:
                self.export()
                logger.info("Firestore data exported to %s", self.data_dir)
            except EmulatorError:
                logger.exception("Could not export Firestore data before stopping")
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._cleanup()

    def _output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-4000:]

    def _cleanup(self) -> None:
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
