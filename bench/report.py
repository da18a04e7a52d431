"""The benchmark's report: one table of every figure beside the floor or goal it should be
compared with, then one line per headline figure, with the names of the JSON line's keys."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from attacks import GOAL_ATTACK_OVER_ALONE
from settings import (
    APPEND_NOTE,
    COLD_GAP,
    FLASH_BACKLOG,
    GOAL_ALARM_P99_MS,
    GOAL_FAILOVER_MS,
    GOAL_FLASH_LOADED_OVER_UNLOADED,
    GOAL_LATENCY_OVER_FLOOR,
    GOAL_NETWORK_FLASH_MS,
    GOAL_NETWORK_IDLE_CORES,
    GOAL_NETWORK_RSS_MB,
    GOAL_RSS_MB,
    GOAL_TAKEOVER_S,
    GOAL_THROUGHPUT,
    GOAL_TRANSCRIPT_LATENCY_COST,
    NETWORK_IDLE_SECONDS,
    NETWORK_IDLE_WINDOWS,
    THROUGHPUT_MESSAGES,
)

out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def verdict(ok: bool) -> str:
    return "[green]met[/]" if ok else "[red]missed[/]"


def report(res: dict[str, Any]) -> None:
    m = res["machine"]
    out.print(f"[bold]hotline benchmark[/]  {res['date']}  {m['nproc']} cores  {m['cpu']}  Python {m['python']}")
    table = Table("figure", "measured", "compare with", "goal")
    for rows in (
        floor_rows,
        latency_rows,
        path_rows,
        throughput_rows,
        alarm_and_flash_rows,
        attack_rows,
        transparency_rows,
        network_rows,
        memory_and_transcript_rows,
        postgres_rows,
    ):
        rows(table, res)
    out.print(table)
    for line in [*summary(res), *attack_summary(res), *transcript_summary(res), *network_summary(res)]:
        out.print(line)


def postgres_rows(table: Table, res: dict[str, Any]) -> None:
    """A party on PostgreSQL, beside SQLite's figures and the server's own commit time."""
    if "postgres_commit_p50_ms" not in res:
        table.add_row("PostgreSQL", str(res.get("postgres", "not measured")), "", "")
        return
    table.add_row(
        "PostgreSQL commit (synchronous_commit=on)", f"{res['postgres_commit_p50_ms']:.3f} ms",
        f"SQLite commit {res['fsync_commit_ms']:.3f} ms", "floor part",
    )  # fmt: skip
    table.add_row(
        "latency p50 / p99, ALPHA on PostgreSQL",
        f"{res['postgres_latency_p50_ms']:.1f} / {res['postgres_latency_p99_ms']:.1f} ms",
        f"SQLite {res['latency_p50_ms']:.1f} / {res['latency_p99_ms']:.1f} ms",
        "",
    )
    table.add_row(
        "throughput, ALPHA on PostgreSQL",
        f"{res['postgres_throughput_msgs_per_s']:,.0f} msg/s",
        f"SQLite {res['throughput_msgs_per_s']:,.0f} msg/s",
        "",
    )
    for fault in ("sigkill", "sigstop"):
        times = res[f"takeover_{fault}_delivered_again_s"]
        table.add_row(
            f"takeover after {fault.upper()}: fault to delivered again",
            f"max {res[f'takeover_{fault}_max_s']:.2f} s",
            ", ".join(f"{t:.2f}" for t in times) + " s",
            f"< {GOAL_TAKEOVER_S:.0f} s",
        )


def floor_rows(table: Table, res: dict[str, Any]) -> None:
    floor = res["floor_ms"]
    table.add_row("fsync'd SQLite commit (WAL, FULL)", f"{res['fsync_commit_ms']:.3f} ms", "floor part", "")
    table.add_row("TLS 1.3 round trip, mutual auth", f"{res['tls_rtt_ms']:.3f} ms", "floor part", "")
    table.add_row(
        "Ed25519 sign / verify (300 B)", f"{res['sign_us']:.1f} / {res['verify_us']:.1f} us", "floor part", ""
    )
    table.add_row("FLOOR: 2 commits + RTT + sign + verify", f"{floor:.3f} ms", "", "")
    table.add_row(
        f"  cold floor (commit, RTT after {COLD_GAP * 1000:.0f} ms idle)",
        f"{res['floor_cold_ms']:.3f} ms",
        f"commit {res['fsync_commit_cold_ms']:.3f} ms, RTT {res['tls_rtt_cold_ms']:.3f} ms",
        "",
    )


def latency_rows(table: Table, res: dict[str, Any]) -> None:
    floor = res["floor_ms"]
    ok = res["latency_p50_over_floor"] <= GOAL_LATENCY_OVER_FLOOR
    table.add_row(
        "latency p50, created -> delivered",
        f"{res['latency_p50_ms']:.1f} ms",
        f"{res['latency_p50_over_floor']:.2f} x floor; {res['latency_p50_over_cold_floor']:.2f} x cold floor",
        f"<= {GOAL_LATENCY_OVER_FLOOR:.0f} x floor: {verdict(ok)}",
    )
    table.add_row("latency p99", f"{res['latency_p99_ms']:.1f} ms", f"{res['latency_p99_ms'] / floor:.2f} x floor", "")
    stages = res["latency_stages_mean_ms"]
    table.add_row(
        "  stages (mean): created->signed, ->received, ->delivered",
        f"{stages['created_to_signed']:.2f}, {stages['signed_to_received']:.2f}, "
        f"{stages['received_to_delivered']:.2f} ms",
        f"store write round trip {res['store_write_round_trip_ms']:.3f} ms",
        "",
    )
    table.add_row(
        "latency seen by the client p50 / p99",
        f"{res['latency_observed_p50_ms']:.1f} / {res['latency_observed_p99_ms']:.1f} ms",
        f"API GET /v1/health alone {res['api_health_round_trip_ms']:.1f} ms",
        "",
    )


def throughput_rows(table: Table, res: dict[str, Any]) -> None:
    m = res["machine"]
    ok = res["throughput_msgs_per_s"] >= GOAL_THROUGHPUT
    table.add_row(
        f"throughput one way, {res['throughput_delivered']:,} msgs",
        f"{res['throughput_msgs_per_s']:,.0f} msg/s",
        f"caps: signatures {res['crypto_ceiling_msgs_per_s']:,.0f}/s, protocol core"
        f" {res['core_ceiling_msgs_per_s']:,.0f}/s, node CPU {res['cpu_ceiling_msgs_per_s']:,.0f}/s",
        f">= {GOAL_THROUGHPUT:,.0f}/s: {verdict(ok)}",
    )
    table.add_row(
        "  messages signed per distinct signed_ms",
        f"{res['msgs_per_signing_moment']:.1f}",
        "~1 dispatch commit per this many (window 512)",
        "",
    )
    table.add_row(
        "throughput both ways at once",
        ", ".join(f"{k} {v:,.0f}" for k, v in res["bidir_msgs_per_s"].items())
        + f" msg/s; total {res['bidir_total_msgs_per_s']:,.0f}/s",
        f"machine busy {res['bidir_machine_busy_percent']:.0f} %",
        "(optional)",
    )
    table.add_row(
        "queue while peer down, then drain",
        f"enqueue {res['enqueue_msgs_per_s']:,.0f}/s, drain {res['drain_msgs_per_s']:,.0f}/s",
        f"API alone; channel alone (CPU/msg: sender {sum(res['drain_sender_cpu_us_per_msg'].values()):.0f} us,"
        f" receiver {sum(res['drain_receiver_cpu_us_per_msg'].values()):.0f} us)",
        "",
    )
    cpu = res["cpu_us_per_msg"]
    core = res["core_cpu_us"]
    table.add_row(
        "CPU per message one way: event loop + other threads",
        ", ".join(f"{k} {v['loop']:.0f} + {v['other']:.0f} us" for k, v in cpu.items()),
        f"protocol core alone: {core['sender_seal_envelope_us'] + core['sender_check_receipt_us']:.0f} us sender, "
        f"{core['receiver_check_and_receipt_us']:.0f} us receiver",
        "",
    )
    table.add_row(
        "CPU use during the one-way run",
        ", ".join(f"{k} {v:.0f} %" for k, v in res["cpu_percent"].items())
        + f" of a core; bench {res['bench_cpu_percent']:.0f} %",
        f"machine busy {res['machine_busy_percent']:.0f} % of {m['nproc']} cores"
        f" (other work {max(0.0, res['other_load_percent']):.0f} %, steal {res['steal_percent']:.0f} %)",
        "",
    )
    table.add_row(
        "node RSS idle (before throughput)",
        ", ".join(f"{k} {v:.1f}" for k, v in res["rss_idle_mb_by_node"].items()) + " MB",
        "",
        "",
    )


def alarm_and_flash_rows(table: Table, res: dict[str, Any]) -> None:
    floor = res["floor_ms"]
    ok = res["alarm_visible_p99_ms"] < GOAL_ALARM_P99_MS
    table.add_row(
        f"send -> FLASH alarm painted in the peer's browser (p50, p99; {res['alarm_samples']})",
        f"{res['alarm_visible_p50_ms']:.1f}, {res['alarm_visible_p99_ms']:.1f} ms",
        f"node to node {res['alarm_node_delivered_p50_ms']:.1f} ms; {res['alarm_visible_p50_ms'] / floor:.1f} x floor",
        f"p99 < {GOAL_ALARM_P99_MS:.0f} ms: {verdict(ok)}",
    )
    ok = res["flash_loaded_over_unloaded"] <= GOAL_FLASH_LOADED_OVER_UNLOADED
    table.add_row(
        "FLASH alone, created -> delivered (p50)",
        f"{res['flash_unloaded_p50_ms']:.1f} ms",
        f"{res['flash_unloaded_p50_ms'] / floor:.2f} x floor",
        "",
    )
    table.add_row(
        f"FLASH behind {FLASH_BACKLOG:,} queued ROUTINE (p50, max)",
        f"{res['flash_behind_backlog_p50_ms']:.1f}, {res['flash_behind_backlog_max_ms']:.1f} ms",
        f"{res['flash_loaded_over_unloaded']:.2f} x FLASH alone",
        f"<= {GOAL_FLASH_LOADED_OVER_UNLOADED:.0f} x alone: {verdict(ok)}",
    )
    ok = res["outage_flash_position"] == 1 and res["outage_flash_over_unloaded"] <= GOAL_FLASH_LOADED_OVER_UNLOADED
    table.add_row(
        f"FLASH queued behind {THROUGHPUT_MESSAGES:,} ROUTINE while the peer is down",
        f"left #{res['outage_flash_position']}; signed -> delivered"
        f" {res['outage_flash_signed_to_delivered_ms']:.1f} ms",
        f"{res['outage_flash_over_unloaded']:.2f} x FLASH alone (signed -> delivered"
        f" {res['flash_unloaded_signed_p50_ms']:.1f} ms)",
        f"first, <= {GOAL_FLASH_LOADED_OVER_UNLOADED:.0f} x alone: {verdict(ok)}",
    )


def path_rows(table: Table, res: dict[str, Any]) -> None:
    floor = res["floor_ms"]
    ok = res["failover_routine_max_ms"] < GOAL_FAILOVER_MS
    table.add_row(
        f"Failover: silent cut of the path in use -> ROUTINE queued at the cut delivered (p50, max;"
        f" {res['failover_samples']} cuts)",
        f"{res['failover_routine_p50_ms']:.0f}, {res['failover_routine_max_ms']:.0f} ms",
        f"{res['failover_routine_p50_ms'] / floor:.0f} x floor",
        f"max < {GOAL_FAILOVER_MS:.0f} ms: {verdict(ok)}",
    )
    table.add_row(
        "  FLASH queued at the cut (it goes on every path), created -> delivered (p50, max)",
        f"{res['failover_flash_p50_ms']:.1f}, {res['failover_flash_max_ms']:.1f} ms",
        f"{res['failover_flash_p50_ms'] / floor:.1f} x floor",
        "",
    )
    table.add_row(
        "Latency, one path / two paths: ROUTINE p50",
        f"{res['latency_one_routine_path_p50_ms']:.1f} / {res['latency_two_routine_path_p50_ms']:.1f} ms",
        f"floor {floor:.3f} ms",
        "",
    )
    table.add_row(
        "Latency, one path / two paths: FLASH p50 (sent on both)",
        f"{res['latency_one_flash_path_p50_ms']:.1f} / {res['latency_two_flash_path_p50_ms']:.1f} ms",
        f"floor {floor:.3f} ms",
        "",
    )
    table.add_row(
        "Probing when idle: CPU per path; bytes per path",
        f"{res['idle_cpu_ms_per_s_per_path']:.2f} ms/s; {res['idle_bytes_per_s_per_path']:.0f} B/s",
        f"idle node: 2 paths {res['idle_cpu_ms_per_s_two_paths']:.2f} ms/s, 1 path"
        f" {res['idle_cpu_ms_per_s_one_path']:.2f} ms/s",
        "",
    )


def memory_and_transcript_rows(table: Table, res: dict[str, Any]) -> None:
    ok = res["rss_peak_mb"] <= GOAL_RSS_MB
    table.add_row(
        "node RSS peak under load (50 ms samples)",
        ", ".join(f"{k} {v:.1f}" for k, v in res["rss_peak_mb_by_node"].items())
        + f" MB (both ways: {res['bidir_rss_peak_mb']:.1f})",
        "",
        f"<= {GOAL_RSS_MB:.0f} MB: {verdict(ok)}",
    )
    table.add_row(
        f"transcript appends at {res['log_leaves']:,} leaves",
        f"{res['log_appends_per_s_at_size']:,.0f} /s",
        f"{APPEND_NOTE}; {res['log_append_commit_ms']:.2f} ms per commit vs fsync {res['fsync_commit_ms']:.3f} ms",
        "",
    )
    table.add_row(
        f"inclusion proof at {res['log_leaves']:,} leaves (p50 / p99)",
        f"{res['log_proof_p50_us']:.0f} / {res['log_proof_p99_us']:.0f} us",
        f"{res['log_proof_hashes']} hashes; Ed25519 verify {res['verify_us']:.0f} us; store {res['log_db_mb']:.0f} MB",
        "",
    )
    cost = res["latency_transcript_cost"]
    table.add_row(
        "latency mean, checkpoints + witnessing on / off",
        f"{res['latency_mean_ms']:.2f} / {res['latency_no_checkpoints_mean_ms']:.2f} ms",
        f"{cost * 100:+.1f} %",
        f"<= +{GOAL_TRANSCRIPT_LATENCY_COST * 100:.0f} %: {verdict(cost <= GOAL_TRANSCRIPT_LATENCY_COST)}",
    )


_ATTACKS = (
    ("idle_connections", "FLASH while {attack_idle_connections_opened:,} idle connections sit on the peer port"),
    ("password_flood", "FLASH during a password flood on the console ({attack_password_flood_guesses:,} guesses)"),
    ("board_consoles", "FLASH while 12 consoles watch a board of {attack_board_waiting:,} waiting messages"),
)


def attack_rows(table: Table, res: dict[str, Any]) -> None:
    alone = res["attack_flash_alone_p50_ms"]
    table.add_row(
        "FLASH alone, before the attacks below (p50, max)",
        f"{alone:.1f}, {res['attack_flash_alone_max_ms']:.1f} ms",
        f"{alone / res['floor_ms']:.2f} x floor",
        "",
    )
    for name, title in _ATTACKS:
        over = res[f"attack_{name}_over_alone"]
        table.add_row(
            title.format(**res) + " (p50, max)",
            f"{res[f'attack_{name}_flash_p50_ms']:.1f}, {res[f'attack_{name}_flash_max_ms']:.1f} ms",
            f"{over:.2f} x FLASH alone",
            f"<= {GOAL_ATTACK_OVER_ALONE:.0f} x alone: {verdict(over <= GOAL_ATTACK_OVER_ALONE)}",
        )


def transparency_rows(table: Table, res: dict[str, Any]) -> None:
    if "transparency_page_p50_ms" not in res:
        return
    p50, p95 = res["transparency_page_p50_ms"], res["transparency_page_p95_ms"]
    table.add_row(
        f"Transparency page, {res['transparency_declarations']} declarations (p50, p95)",
        f"{p50:.1f}, {p95:.1f} ms",
        f"{p95 / res['floor_ms']:.1f} x floor",
        f"p95 < 100 ms: {verdict(p95 < 100)}",
    )


def attack_summary(res: dict[str, Any]) -> list[str]:
    alone = res["attack_flash_alone_p50_ms"]
    lines = [
        f"attack_{name}_flash_p50_ms {res[f'attack_{name}_flash_p50_ms']:.1f} vs attack_flash_alone_p50_ms"
        f" {alone:.1f}: {res[f'attack_{name}_over_alone']:.2f} x (goal <= {GOAL_ATTACK_OVER_ALONE:.0f} x)"
        for name, _ in _ATTACKS
    ]
    lines.append(
        f"peer-port connections refused during the idle-connection attack:"
        f" {res['attack_idle_connections_refused']:,}; board {res['attack_board_page_kb']:.1f} kB,"
        f" loaded {res['attack_board_loads']:,} times"
    )
    return lines


def summary(res: dict[str, Any]) -> list[str]:
    floor = res["floor_ms"]
    return [
        (
            f"floor_ms {floor:.3f} = 2 x fsync_commit_ms {res['fsync_commit_ms']:.3f}"
            f" + tls_rtt_ms {res['tls_rtt_ms']:.3f} + sign_us {res['sign_us']:.1f} + verify_us {res['verify_us']:.1f}"
        ),
        (
            f"latency_p50_ms {res['latency_p50_ms']:.1f} vs floor_ms {floor:.3f}:"
            f" {res['latency_p50_over_floor']:.2f} x (goal <= {GOAL_LATENCY_OVER_FLOOR:.0f} x)"
        ),
        f"latency_p99_ms {res['latency_p99_ms']:.1f} vs floor_ms {floor:.3f}",
        (
            f"throughput_msgs_per_s {res['throughput_msgs_per_s']:,.0f} (goal >= {GOAL_THROUGHPUT:,.0f});"
            f" ceiling from signatures {res['crypto_ceiling_msgs_per_s']:,.0f}/s,"
            f" from the protocol core {res['core_ceiling_msgs_per_s']:,.0f}/s,"
            f" from measured node CPU {res['cpu_ceiling_msgs_per_s']:,.0f}/s"
        ),
        f"rss_idle_mb {res['rss_idle_mb']:.1f}, rss_peak_mb {res['rss_peak_mb']:.1f} (goal <= {GOAL_RSS_MB:.0f})",
        (
            f"flash_behind_backlog_p50_ms {res['flash_behind_backlog_p50_ms']:.1f} vs flash_unloaded_p50_ms"
            f" {res['flash_unloaded_p50_ms']:.1f}: {res['flash_loaded_over_unloaded']:.2f} x"
            f" (goal <= {GOAL_FLASH_LOADED_OVER_UNLOADED:.0f} x)"
        ),
        (
            f"outage_flash_position {res['outage_flash_position']},"
            f" outage_flash_signed_to_delivered_ms {res['outage_flash_signed_to_delivered_ms']:.1f}"
            f" vs flash_unloaded_signed_p50_ms {res['flash_unloaded_signed_p50_ms']:.1f}"
        ),
        (
            f"alarm_visible_p50_ms {res['alarm_visible_p50_ms']:.1f}, p99 {res['alarm_visible_p99_ms']:.1f}"
            f" over {res['alarm_samples']} (goal p99 < {GOAL_ALARM_P99_MS:.0f} ms); node to node"
            f" {res['alarm_node_delivered_p50_ms']:.1f}; floor_ms {floor:.3f}, tls_rtt_ms {res['tls_rtt_ms']:.3f}"
        ),
    ]


def transcript_summary(res: dict[str, Any]) -> list[str]:
    cost = res["latency_transcript_cost"]
    return [
        (
            f"log_appends_per_s_at_size {res['log_appends_per_s_at_size']:,.0f} at {res['log_leaves']:,} leaves"
            f" ({APPEND_NOTE}); fsync_commit_ms {res['fsync_commit_ms']:.3f}"
        ),
        (
            f"log_proof_p50_us {res['log_proof_p50_us']:.0f}, p99 {res['log_proof_p99_us']:.0f}"
            f" at {res['log_leaves']:,} leaves; verify_us {res['verify_us']:.1f}"
        ),
        (
            f"latency mean with checkpoints and witnessing {res['latency_mean_ms']:.2f} ms vs without"
            f" {res['latency_no_checkpoints_mean_ms']:.2f} ms: {cost * 100:+.1f} %"
            f" (goal <= {GOAL_TRANSCRIPT_LATENCY_COST * 100:.0f} %)"
        ),
    ]


def network_rows(table: Table, res: dict[str, Any]) -> None:
    """The 57-party mesh (network.py)."""
    n = res["network_parties"]
    table.add_row(
        f"Network of {n}: made and pinned (peer add --file); started; every link up",
        f"{res['network_make_s']:.0f} s; {res['network_start_s']:.0f} s; {res['network_linked_s']:.1f} s",
        "",
        "",
    )
    ok = res["network_flash_last_max_ms"] <= GOAL_NETWORK_FLASH_MS
    table.add_row(
        f"  FLASH to all {n - 1}: last receipt (p50, max of {res['network_flash_samples']}); any receipt p50",
        f"{res['network_flash_last_p50_ms']:.0f}, {res['network_flash_last_max_ms']:.0f} ms;"
        f" {res['network_flash_receipt_p50_ms']:.0f} ms",
        f"floor {res['network_flash_floor_ms']:.1f} ms ({n - 1} x sign + verify, 2 commits, TLS)",
        f"<= {GOAL_NETWORK_FLASH_MS:.0f} ms: {verdict(ok)}",
    )
    ok = res["network_rss_max_mb"] <= GOAL_NETWORK_RSS_MB
    table.add_row(
        "  RSS per node (p50, max); memory per peer",
        f"{res['network_rss_p50_mb']:.1f}, {res['network_rss_max_mb']:.1f} MB; {res['network_kib_per_peer']:.0f} KiB",
        f"a node with no peer {res['network_lone_rss_mb']:.1f} MB; a pair's {res['network_pair_rss_mb']:.1f} MB",
        f"<= {GOAL_NETWORK_RSS_MB:.0f} MB: {verdict(ok)}",
    )
    ok = res["network_pss_max_mb"] <= GOAL_NETWORK_RSS_MB
    table.add_row(
        "  PSS per node, shared pages in shares (p50, max)",
        f"{res['network_pss_p50_mb']:.1f}, {res['network_pss_max_mb']:.1f} MB",
        "what each node costs the machine",
        f"<= {GOAL_NETWORK_RSS_MB:.0f} MB: {verdict(ok)}",
    )
    table.add_row(
        f"  idle CPU, all {n} together, {NETWORK_IDLE_WINDOWS} windows of {NETWORK_IDLE_SECONDS:g} s (median, max)",
        f"{res['network_idle_cores']:.3f}, {res['network_idle_cores_max']:.3f} cores",
        "",
        f"< {GOAL_NETWORK_IDLE_CORES} core: {verdict(res['network_idle_cores_max'] < GOAL_NETWORK_IDLE_CORES)}",
    )
    table.add_row(
        "  one party cut off: FLASH to the rest, last receipt; the alarm for the absent one",
        f"{res['network_cut_reached']} reached, {res['network_cut_flash_last_ms']:.0f} ms;"
        f" alarm after {res['network_cut_alarm_s']:.1f} s",
        f"alarm grace {res['network_cut_alarm_grace_s']} s",
        "",
    )


def network_summary(res: dict[str, Any]) -> list[str]:
    return [
        (
            f"network_flash_last_max_ms {res['network_flash_last_max_ms']:.0f} to {res['network_parties'] - 1}"
            f" parties vs network_flash_floor_ms {res['network_flash_floor_ms']:.1f}"
            f" (goal <= {GOAL_NETWORK_FLASH_MS:.0f}); network_rss_max_mb {res['network_rss_max_mb']:.1f},"
            f" network_pss_max_mb {res['network_pss_max_mb']:.1f} (goal <= {GOAL_NETWORK_RSS_MB:.0f});"
            f" network_idle_cores {res['network_idle_cores']:.3f},"
            f" at worst {res['network_idle_cores_max']:.3f}"
            f" (goal < {GOAL_NETWORK_IDLE_CORES})"
        ),
    ]
