"""The catalog page: what module code puts in it is shown, never run."""

from __future__ import annotations

from kernel.asyncapi import Channel, Consumer, Producer, SystemContracts, nats_server
from kernel.asyncapi._page import catalog_page


def test_text_from_module_code_is_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    contracts = SystemContracts(
        channels={
            "shop.sold": Channel(
                "shop.sold",
                (Producer("shop", {"title": "Sold", "properties": {hostile: {}}}, hostile),),
                (Consumer("ledger", f"ledger.events.{hostile}", "shop.*"),),
            )
        },
        modules={"shop": hostile},
    )
    page = catalog_page(contracts).decode()
    assert "<script" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # each place it was put
    assert "on <code>shop.*</code>" in page  # a wildcard consumer says what it listens to


def test_the_nats_server_is_named_without_its_credentials() -> None:
    assert nats_server("nats://webos:s3cret@10.0.0.5:4222,nats://webos:s3cret@10.0.0.6:4222") == {
        "host": "10.0.0.5:4222",
        "protocol": "nats",
    }
    assert nats_server("tls://u:p@[::1]:4443") == {"host": "[::1]:4443", "protocol": "tls"}
    assert nats_server("127.0.0.1:4222") == {"host": "127.0.0.1:4222", "protocol": "nats"}
