"""Fake Esplora (mempool.space and blockstream.info) in its exact format: /api/address/:a and /txs/chain pages.

Wallets are built from transactions in Esplora's tx format (txid, vin[].prevout, vout[], status); an address's
chain_stats are derived from them, as Esplora does. The real captured address payload (a Bitfinex cold wallet,
../shared/payloads/mempool) is served verbatim for its address, with no history configured. Any other address is an
unused one (zero stats, empty history), which is what Esplora answers for it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.fakes import FakeUpstream
from tests.fakes.data import PAYLOADS

REAL_ADDRESS = "bc1qgdjqv0av3q56jvd82tkdjpy7gdp9ut8tlqmgrpmv24sq90ecnvqqjwvw97"
REAL_PAYLOAD = PAYLOADS / "mempool" / "mempool_api_address_bc1qgdjq_compact.json"
PAGE = 25


def txout(address: str, sats: int) -> dict[str, Any]:
    return {
        "scriptpubkey": "0014" + "ab" * 20,
        "scriptpubkey_asm": "OP_0 OP_PUSHBYTES_20 " + "ab" * 20,
        "scriptpubkey_type": "v0_p2wpkh",
        "scriptpubkey_address": address,
        "value": sats,
    }


def make_tx(
    txid: str,
    block_time: int | None,
    height: int | None,
    inputs: list[tuple[str, int]],
    outputs: list[tuple[str, int]],
) -> dict[str, Any]:
    """A transaction in Esplora's format. `inputs` are the spent prevouts (address, sats); None time = unconfirmed."""
    vin = [
        {
            "txid": f"{i:02x}" * 32,
            "vout": 0,
            "prevout": txout(addr, sats),
            "scriptsig": "",
            "scriptsig_asm": "",
            "witness": ["30440220" + "00" * 32, "02" + "11" * 32],
            "is_coinbase": False,
            "sequence": 4294967293,
        }
        for i, (addr, sats) in enumerate(inputs)
    ]
    fee = sum(s for _, s in inputs) - sum(s for _, s in outputs)
    status: dict[str, Any] = {"confirmed": False}
    if block_time is not None:
        status = {"confirmed": True, "block_height": height, "block_hash": "00" * 32, "block_time": block_time}
    return {
        "txid": txid,
        "version": 2,
        "locktime": 0,
        "vin": vin,
        "vout": [txout(a, s) for a, s in outputs],
        "size": 222,
        "weight": 561,
        "fee": max(fee, 0),
        "status": status,
    }


@dataclass
class EsploraFake:
    txs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # address -> confirmed txs, newest first
    fail: set[str] = field(default_factory=set)  # addresses answered with HTTP 500
    down: bool = False

    def add(self, address: str, tx: dict[str, Any]) -> None:
        rows = self.txs.setdefault(address, [])
        rows.append(tx)
        rows.sort(key=lambda t: -t["status"].get("block_time", 0))

    def stats(self, address: str) -> dict[str, Any]:
        funded = spent = nf = ns = 0
        rows = self.txs.get(address, [])
        for tx in rows:
            for out in tx["vout"]:
                if out["scriptpubkey_address"] == address:
                    funded += out["value"]
                    nf += 1
            for vin in tx["vin"]:
                if vin["prevout"]["scriptpubkey_address"] == address:
                    spent += vin["prevout"]["value"]
                    ns += 1
        zero = {"funded_txo_count": 0, "funded_txo_sum": 0, "spent_txo_count": 0, "spent_txo_sum": 0, "tx_count": 0}
        chain = {
            "funded_txo_count": nf,
            "funded_txo_sum": funded,
            "spent_txo_count": ns,
            "spent_txo_sum": spent,
            "tx_count": len(rows),
        }
        return {"address": address, "chain_stats": chain, "mempool_stats": zero}

    def handle(self, request: httpx.Request, path: str) -> httpx.Response:
        if self.down:
            return httpx.Response(503, text="Service Unavailable")
        m = re.fullmatch(r"/api/address/([A-Za-z0-9]+)(/txs/chain(?:/([0-9a-f]+))?)?", path)
        if m is None:
            return httpx.Response(404, text="Not Found")
        address, txs_part, last_seen = m.groups()
        if address in self.fail:
            return httpx.Response(500, text="Internal Server Error")
        if txs_part is None:
            if address == REAL_ADDRESS and address not in self.txs:
                return httpx.Response(200, content=REAL_PAYLOAD.read_bytes())
            return httpx.Response(200, json=self.stats(address))
        rows = self.txs.get(address, [])
        start = 0
        if last_seen is not None:
            ids = [t["txid"] for t in rows]
            if last_seen not in ids:
                return httpx.Response(400, text="Invalid hex string")
            start = ids.index(last_seen) + 1
        return httpx.Response(200, json=rows[start : start + PAGE])


def register(fake: FakeUpstream) -> None:
    state = EsploraFake()
    fake.esplora = state  # type: ignore[attr-defined]
    fake.handlers.update(mempool=state.handle, blockstream=state.handle)


def real_payload() -> dict[str, Any]:
    return json.loads(REAL_PAYLOAD.read_text())
