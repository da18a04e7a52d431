"""The benchmark's settings: sample sizes, loads and goals, in one place to tune a run."""

from __future__ import annotations

FSYNC_SAMPLES = 300
TLS_SAMPLES = 300
# The floor is also measured "cold": each sample after this much idle time, as a message sent
# now and then meets the machine (on a VM, an idle vCPU and disk queue wake up slowly).
COLD_GAP = 0.04
COLD_SAMPLES = 60
CRYPTO_SAMPLES = 2000
LATENCY_WARMUP = 20
LATENCY_SAMPLES = 200
THROUGHPUT_MESSAGES = 10_000
BATCH_SIZE = 1000
POLL_INTERVAL = 0.002  # seconds between read-only looks at the sender's store (latency run)
RSS_INTERVAL = 0.05  # seconds between memory samples (throughput runs)
DELIVERY_TIMEOUT = 150.0  # seconds for a throughput run to be delivered, at most

GOAL_LATENCY_OVER_FLOOR = 2.0
GOAL_THROUGHPUT = 4000.0
GOAL_RSS_MB = 150.0
GOAL_FLASH_LOADED_OVER_UNLOADED = 2.0
APPEND_NOTE = "64 entries per fsync'd commit, as a dispatch"
GOAL_TRANSCRIPT_LATENCY_COST = 0.10  # latency with checkpoints and witnessing, at most 10 % more
FLASH_UNLOADED_SAMPLES = 30
FLASH_BACKLOG = 10_000  # ROUTINE messages queued ahead of each loaded FLASH
FLASH_LOADED_SAMPLES = 5

POSTGRES_LATENCY_SAMPLES = 100  # ALPHA on PostgreSQL to BRAVO on SQLite, one in flight
POSTGRES_MESSAGES = 5000  # throughput, ALPHA on PostgreSQL to BRAVO on SQLite
TAKEOVERS = 6  # faults of ALPHA's active node, SIGKILL and SIGSTOP in turn
GOAL_TAKEOVER_S = 5.0

PARTIES = ("ALPHA", "BRAVO")
PLAIN_PARTIES = ("CHARLIE", "DELTA")
PATH_PARTIES = ("ECHO", "FOXTROT")  # the pair behind two relays each: two paths
FAILOVER_CUTS = 12  # silent cuts of the path in use, each healed before the next
IDLE_SECONDS = 10.0  # idle time over which probing's cost is measured
PATH_LATENCY_SAMPLES = 50  # per kind of message and pair
GOAL_FAILOVER_MS = 1000.0
LATENCY_TURNS = 10
ALARM_SAMPLES = 60  # FLASH messages, one at a time, from send to the alarm painted in a browser
GOAL_ALARM_P99_MS = 250.0
# ~200 characters of text: the signed envelope comes to ~400 bytes, like a short real message.
RECEIPT_BATCH = 100  # envelopes named by one receipt in the core measurement
TEXT = (
    "Routine link check from the duty officer. Please acknowledge receipt of this message on the "
    "channel and confirm that the scheduled exchange of status reports will proceed at 0600Z as agreed."
)

# A network of 57 parties (network.py, issue 19).
NETWORK_FLASHES = 5  # FLASHes to all, each from another node
NETWORK_IDLE_SECONDS = 10.0
NETWORK_IDLE_WINDOWS = 3  # consecutive windows of NETWORK_IDLE_SECONDS: the median, and the worst
GOAL_NETWORK_FLASH_MS = 1000.0  # FLASH to all 56: the last receipt
GOAL_NETWORK_RSS_MB = 100.0  # per node of the 57
GOAL_NETWORK_IDLE_CORES = 0.25  # the idle mesh, all 57 processes together
