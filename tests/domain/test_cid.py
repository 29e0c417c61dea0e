from __future__ import annotations

import pytest

from chatbox.domain.cid import check_raw_cid, is_cid_of, raw_cid
from chatbox.errors import InvalidInput

# The CID Kubo prints for `block put --cid-codec raw` of b"hello".
HELLO_CID = "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"


def test_raw_cid_matches_the_published_form() -> None:
    assert raw_cid(b"hello") == HELLO_CID
    assert is_cid_of(HELLO_CID, b"hello")
    assert not is_cid_of(HELLO_CID, b"hello!")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        HELLO_CID.upper(),
        HELLO_CID[:-1],
        "Qm" + HELLO_CID[2:],
        # CIDv1 dag-pb of a file: a valid CID, but not an envelope block.
        "bafybeiad5a3erh3em364epo2h4mzqcodfixfytsuljdrea37t523ncqwri",
    ],
)
def test_check_raw_cid_refuses_anything_else(text: str) -> None:
    with pytest.raises(InvalidInput):
        check_raw_cid(text)


def test_check_raw_cid_accepts_raw_cids() -> None:
    assert check_raw_cid(HELLO_CID) == HELLO_CID
