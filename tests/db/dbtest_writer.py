"""Child process for the cross-process test: inserts documents into a shared embedded store.

Usage: python dbtest_writer.py DATA_DIR DB_NAME PREFIX COUNT GO_FILE [OTHER]
Waits for GO_FILE so that both writers really run at the same time, then prints a JSON line
with how many inserts and how many duplicate-key rejections it saw. With OTHER (the other
writer's prefix), after its first insert it waits until it sees one of OTHER's documents: both
processes then provably ran at once and saw each other's writes through the shared store.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import pymongo.errors
from dbtest_models import MODELS, Product

from kernel.db import create_client, init_models


async def main(
    data_dir: str, db_name: str, prefix: str, count: int, go_file: str, other: str | None
) -> None:
    client = create_client(None, Path(data_dir))
    await init_models(client, db_name, MODELS)
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while not await asyncio.to_thread(Path(go_file).exists):
        if time.monotonic() > deadline:
            raise SystemExit("never told to go")
        await asyncio.sleep(0.01)
    inserted = duplicates = 0
    saw_other = False
    for i in range(count):
        await Product(sku=f"{prefix}-{i}", name="n", category=prefix, price=float(i)).insert()
        inserted += 1
        while other and not saw_other:  # the rendezvous, once
            saw_other = await Product.find(Product.category == other).count() > 0
            if time.monotonic() > deadline:
                raise SystemExit(f"{prefix} never saw a document of {other}")
            await asyncio.sleep(0.01)
        if i % 50 == 0:  # both writers race for the same unique keys
            try:
                await Product(sku=f"shared-{i}", name=prefix, category="x", price=0).insert()
                inserted += 1
            except pymongo.errors.DuplicateKeyError:
                duplicates += 1
    report = {"inserted": inserted, "duplicates": duplicates, "saw_other": saw_other}
    print(json.dumps(report), flush=True)
    await client.close()


if __name__ == "__main__":
    data_dir, db_name, prefix, count, go_file = sys.argv[1:6]
    other = sys.argv[6] if len(sys.argv) > 6 else None
    asyncio.run(main(data_dir, db_name, prefix, int(count), go_file, other))
