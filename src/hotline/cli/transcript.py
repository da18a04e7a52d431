"""The transcript's commands: `log checkpoint`, `log export`, `log audit`, `evidence`, `verify`.

They read the store file (or, for `verify`, only an evidence directory) and never need the node
to run; errors reach the user through ``hotline.cli.main`` like every other command's.
"""

from __future__ import annotations

import base64
from pathlib import Path

import click

from hotline.cli.common import dir_option, fail, json_option, out, print_json
from hotline.errors import HotlineError
from hotline.views import iso


@click.group()
def log() -> None:
    """The co-signed transcript: checkpoints, export for auditors, audit."""


@log.command()
@dir_option
@json_option
def checkpoint(directory: Path, as_json: bool) -> None:
    """The latest checkpoint, as the signed note with its signature and cosignatures."""
    from hotline.evidence import latest

    found = latest(directory)
    if as_json:
        print_json(
            {
                "size": found.size,
                "root": base64.b64encode(found.root).decode(),
                "signed_at": iso(found.at_ms),
                "cosigned_by": [witness for witness, _ in found.cosignatures],
                "note": found.cosigned_note,
            }
        )
        return
    click.echo(found.cosigned_note, nl=False)


@log.command()
@dir_option
@click.option("--out", "folder", required=True, type=click.Path(file_okay=False, path_type=Path))
def export(directory: Path, folder: Path) -> None:
    """Write the log in C2SP tlog-tiles layout (checkpoint, tiles, entry bundles) for auditors."""
    from hotline.evidence import export as export_log

    found = export_log(directory, folder)
    out.print(f"exported {found.size} entries to {folder} (checkpoint, tile/…, tile/entries/…)")


@log.command()
@dir_option
@json_option
def audit(directory: Path, as_json: bool) -> None:
    """Recompute the whole tree from the stored entries and check every checkpoint against it."""
    from hotline.evidence import audit as audit_log

    report = audit_log(directory)
    if as_json:
        print_json(report.__dict__)
    else:
        out.print(
            f"{report.entries} entries, {report.checkpoints} checkpoints, {report.cosignatures} cosignatures,"
            f" {report.positions} message positions checked"
        )
        for problem in report.problems:
            out.print(f"[bold red]PROBLEM[/] {problem}", markup=True)
    if report.problems:
        raise SystemExit(1)
    if not as_json:
        out.print("[green]the transcript is consistent with every checkpoint and cosignature[/]")


@click.command()
@dir_option
@click.argument("message")
@click.option("--out", "folder", required=True, type=click.Path(file_okay=False, path_type=Path))
def evidence(directory: Path, message: str, folder: Path) -> None:
    """Write evidence that MESSAGE (serial or envelope id) is in the co-signed transcript."""
    from hotline.evidence import write_evidence

    index, found = write_evidence(directory, message, folder)
    witnesses = ", ".join(w for w, _ in found.cosignatures) or "none yet"
    out.print(f"entry {index} of {found.size}, checkpoint cosigned by: {witnesses}")
    out.print(f"wrote {folder}/entry, {folder}/proof.tlog-proof, {folder}/keys; check with `hotline verify {folder}`")


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--against",
    type=click.Path(file_okay=False, path_type=Path),
    help="a node directory: trust only its own key and its pinned peers' keys",
)
@json_option
def verify(folder: Path, against: Path | None, as_json: bool) -> None:
    """Verify evidence written by `hotline evidence`, offline, from the files alone."""
    from hotline.verification import parties_known_at, verify_evidence

    trusted = parties_known_at(against) if against is not None else None  # a bad node directory: exit 3
    try:
        result = verify_evidence(folder, trusted)
    except HotlineError as exc:
        fail(f"NOT VERIFIED: {exc}", 1)
    if as_json:
        print_json(result.__dict__)
        return
    m = result.message
    out.print(f"[green]VERIFIED[/] entry {result.index} of the log {result.origin} (size {result.size})")
    out.print(f"  checkpoint signed by the log's key: {result.log_key}")
    out.print(f"  cosigned by: {', '.join(result.cosigned_by) or 'no witness (only the log vouches for it)'}")
    out.print("  inclusion proof: verifies against the checkpoint's root")
    out.print(
        f"  message {m['serial']}: {m['from']} → {m['to']}, sequence {m['seq']}, {m['precedence']} {m['kind']},"
        f" sent {iso(int(str(m['sent_ms'])))}"
    )
    out.print(f"  envelope {m['envelope_id']}: {result.envelope_signature}")
    if against is None:
        out.print("  keys: trusted as given in the evidence; compare them with the parties' published keys")
        out.print("  (or verify --against a node directory that has them pinned):")
        for name, digest in result.key_hashes.items():
            out.print(f"    {name}  SHA-256 {digest}")
    else:
        out.print(f"  keys: each one is the key pinned at {against} for the party it names")
