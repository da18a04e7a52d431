"""A node holds any number of peers: three parties in a full mesh, each writing to both others."""

from pathlib import Path

from tests.integration.harness import NodeProcess, make_node, pin, wait_for

PARTIES = ["SACEUR", "GENSTAB", "OSCECPC"]


async def test_three_nodes_in_a_full_mesh(tmp_path: Path) -> None:
    nodes = {p: make_node(tmp_path, p) for p in PARTIES}
    for a in nodes.values():
        for b in nodes.values():
            if a is not b:
                pin(a, b.config)
    try:
        for node in nodes.values():
            await node.start()
        for sender in nodes.values():
            for receiver in PARTIES:
                if receiver != sender.party:
                    await sender.api(
                        "POST",
                        "/v1/messages",
                        json={"to": receiver, "body": {"text": f"{sender.party} to {receiver}", "lang": "en"}},
                    )

        async def inbox_complete(node: NodeProcess) -> list[dict[str, object]] | None:
            items: list[dict[str, object]] = await node.api("GET", "/v1/inbox")
            return items if len(items) == len(PARTIES) - 1 else None

        for node in nodes.values():
            items = await wait_for(lambda n=node: inbox_complete(n), 30, f"{node.party}'s inbox")
            assert {i["text"] for i in items} == {f"{p} to {node.party}" for p in PARTIES if p != node.party}
            assert all(i["seq"] == 1 for i in items), "each channel has its own sequence"
            status = await node.api("GET", "/v1/status")
            assert sorted(p["peer"] for p in status["peers"]) == sorted(set(PARTIES) - {node.party})
    finally:
        for node in nodes.values():
            node.stop()
            await node.client.aclose()
