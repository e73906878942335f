"""`manage.py firestore_emulator [-- command ...]`: the emulator, around a command."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from issuetracker.emulator import EmulatorError, FirestoreEmulator


def _interrupt_on_sigterm() -> None:
    """Make SIGTERM unwind like Ctrl-C, so the emulator is exported and stopped."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


class Command(BaseCommand):
    help = (
        "Start Google's Firestore emulator and keep it until Ctrl-C/SIGTERM. With a "
        "command after `--`, run it with FIRESTORE_EMULATOR_HOST set and stop the "
        "emulator when it ends. Data persists in .data/firestore unless --no-persist."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=int, default=None, help="Port (default: free)."
        )
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="Import from and export to this folder (default: .data/firestore).",
        )
        parser.add_argument(
            "--no-persist", action="store_true", help="Keep data in memory only."
        )
        parser.add_argument("child", nargs="*", help="Command to run, after `--`.")

    def handle(self, *args: Any, **options: Any) -> None:
        child: list[str] = options["child"]
        if os.environ.get("FIRESTORE_EMULATOR_HOST"):
            if not child:
                raise CommandError(
                    "FIRESTORE_EMULATOR_HOST is set: an emulator already runs there."
                )
            self.stdout.write(
                f"Using Firestore at {os.environ['FIRESTORE_EMULATOR_HOST']}"
            )
            sys.exit(subprocess.call(child))

        data_dir = None
        if not options["no_persist"]:
            data_dir = options["data_dir"] or settings.FIRESTORE_EMULATOR_DATA_DIR
        emulator = FirestoreEmulator(
            project=settings.GOOGLE_CLOUD_PROJECT,
            port=options["port"],
            data_dir=data_dir,
        )
        _interrupt_on_sigterm()
        try:
            emulator.start()
        except EmulatorError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Firestore emulator on {emulator.address} (project "
            f"{settings.GOOGLE_CLOUD_PROJECT}); data in {data_dir or 'memory only'}."
        )
        os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.address
        exit_code = 0
        try:
            exit_code = self._run(child)
        finally:
            self.stdout.write("Stopping the Firestore emulator...")
            emulator.stop()
        sys.exit(exit_code)

    def _run(self, child: list[str]) -> int:
        """Run the child (or wait for a signal) and return the exit code to pass on."""
        if not child:
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                return 0
        # Its own process group, so that stopping reaches everything it started
        # (`make run`'s shell runs the server, a task worker and a sweep loop;
        # a shell defers its traps until its foreground command ends).
        process = subprocess.Popen(child, start_new_session=True)
        try:
            return process.wait()
        except KeyboardInterrupt:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
            return 0  # Stopping on request is a clean exit.


def _signal_group(process: "subprocess.Popen[bytes]", signum: int) -> None:
    """Send `signum` to the child's process group (gone already: nothing to do)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)
