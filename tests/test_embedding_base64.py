"""``encoding_format="base64"`` embeddings: where the pydantic serializer warning comes from.

LiteLLM's native OpenAI-SDK path warns ``PydanticSerializationUnexpectedValue`` for these calls:
the OpenAI SDK leaves the base64 string in ``Embedding.embedding`` (typed ``list[float]``) when
the caller asked for base64, and LiteLLM's ``OpenAIChatCompletion.embedding`` calls
``model_dump()`` on that object (litellm/llms/openai/openai.py). The answer LiteLLM returns
holds the string, as the upstream sent it. Our routes build LiteLLM's ``EmbeddingResponse``
from the upstream JSON without the SDK's model, so they return the same answer without the
warning. The differential tests that run the native call ignore this one warning for that
reason; this test pins both halves, so it fails if LiteLLM stops warning (drop the filters) or
if our routes start to.
"""

from __future__ import annotations

import warnings

import pytest

from .conftest import KEY
from .test_patch import patched

EMB = "openai/text-embedding-3-small"


def test_native_base64_warns_ours_do_not(litellm, mock):
    kw = {"input": ["alpha", "beta"], "api_key": KEY, "api_base": mock.base_url()}
    with pytest.warns(UserWarning, match="PydanticSerializationUnexpectedValue") as record:
        native = litellm.embedding(model=EMB, encoding_format="base64", **kw)
    assert all("pydantic" in w.filename for w in record)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with patched():
            transparent = litellm.embedding(model=EMB, encoding_format="base64", **kw)
        provider = litellm.embedding(model=f"edgequake/{EMB}", extra_body={"encoding_format": "base64"}, **kw)
    assert isinstance(native.data[0]["embedding"], str)
    assert transparent.model_dump() == native.model_dump()
    assert provider.model_dump() == native.model_dump()
